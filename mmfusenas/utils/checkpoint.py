"""Checkpoint files: checks, ``weights_only`` loading, strict weight loading.

Every path that reads weights (``--resume``, ``load_from``, ``tools/test.py``,
inference) goes through :func:`read_checkpoint` and :func:`load_checked_state`:
errors name the file; see docs/user_guides/reliability.md.
"""
import errno
import glob
import io
import os
import os.path as osp
import pickle
import re
import warnings
import zipfile
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from .fileio import atomic_write


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` for ``weights_only`` loading: only the HistoryBuffer
    statistics methods MMEngine's checkpoints refer to."""
    allowed = {*HistoryBuffer._statistics_methods, 'min', 'max', 'mean',
               'current'}
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise RuntimeError(
        f'Refusing to resolve getattr({obj!r}, {name!r}) while loading a '
        'checkpoint with weights_only=True: only HistoryBuffer statistics '
        'methods are allowed.')


def allow_mmengine_checkpoint_globals() -> None:
    """Allow-list what MMEngine writes into checkpoints (its MessageHub
    state, numpy arrays and scalars) for ``weights_only=True`` loading."""
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4 has no allow-list and loads as before
    try:  # numpy >= 2
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    torch.serialization.add_safe_globals([
        HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray, np.dtype,
        (multiarray._reconstruct, f'{multiarray.__name__}._reconstruct'),
        (multiarray.scalar, f'{multiarray.__name__}.scalar')
    ] + [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')])


allow_mmengine_checkpoint_globals()


class CorruptCheckpointError(ValueError):
    """A checkpoint file is truncated or damaged (``trust=True`` cannot load
    it either)."""


class TrustedUnpicklingWarning(UserWarning):
    """A file is fully unpickled because the caller passed ``trust=True``."""


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model (keys or shapes)."""


# torch.save's formats: a zip archive, or a legacy pickle stream starting
# with the pickled magic number 0x1950a86a20f9469cfc6c (protocol 2)
_ZIP_MAGIC = b'PK\x03\x04'
_LEGACY_MAGIC = b'\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19'
_TRUNCATION_HINTS = ('unexpected eof', 'ran out of input', 'truncated',
                     'corrupt', 'invalid magic number', 'invalid load key')


def _raise_if_damaged(path: str,
                      what: str = 'checkpoint',
                      err: Optional[BaseException] = None) -> None:
    """Raise :class:`CorruptCheckpointError` naming ``path`` if it is a zip
    archive that cannot be read or whose entry fails the CRC-32 ``torch.save``
    stored (overwritten bytes ``torch.load`` loads silently), a legacy file
    whose load error ``err`` says it ends early, or neither format."""
    with open(path, 'rb') as f:
        head = f.read(len(_LEGACY_MAGIC))
    text = f'{type(err).__name__}: {str(err)[:300]}'
    problem = None
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()  # reads every entry, checks CRC-32
        except (zipfile.BadZipFile, OSError, EOFError, ValueError,
                RuntimeError) as zip_err:
            problem = ('cannot be read by torch.load: a zip archive '
                       '(torch.save format) that is truncated or damaged: '
                       f'{type(zip_err).__name__}: {zip_err}')
        else:
            if bad is not None:
                problem = (f'is corrupt: entry {bad} of its zip archive '
                           'fails its CRC-32 check: bytes of the file were '
                           'overwritten or lost')
    elif head != _LEGACY_MAGIC:
        problem = ('cannot be read by torch.load: not a PyTorch file (it '
                   f'starts with {head[:8]!r}){": " + text if err else ""}')
    elif isinstance(err, EOFError) or err is not None and any(
            h in text.lower() for h in _TRUNCATION_HINTS):
        problem = ('cannot be read by torch.load: a legacy (non-zip) torch '
                   f'file that is truncated or damaged: {text}')
    if problem is not None:
        raise CorruptCheckpointError(
            f'{what} {path} ({osp.getsize(path)} bytes) {problem}. Use an '
            'intact copy (save or download it again); no loading option can '
            'read it (docs/user_guides/reliability.md)') from err


def _refused_global(err: BaseException) -> str:
    """What a ``weights_only`` load refused, from its error."""
    found = re.search(r'GLOBAL ([\w.]+)', str(err))
    return f'e.g. {found[1]}' if found else str(err).strip().split(
        '\n')[0][:200]


def read_checkpoint(path: str,
                    what: str = 'checkpoint',
                    map_location: Union[str, torch.device] = 'cpu') -> Any:
    """Load ``path`` with ``torch.load(weights_only=True)`` after checking
    it; every error names the file (as ``what``): no path, a symlink loop or
    dangling link, a missing file, a folder, zero bytes, a truncated, foreign
    or CRC-failing file, pickled objects (naming the converter to use)."""
    if path is None or not str(path).strip():
        raise FileNotFoundError(f'{what}: no file given (empty path)')
    path = str(path)
    if not osp.exists(path):
        if osp.islink(path):
            try:
                os.stat(path)
            except OSError as err:
                if err.errno == errno.ELOOP:
                    raise FileNotFoundError(
                        f'{what} {path} is a symlink loop ({err.strerror}); '
                        'point it at a real checkpoint file') from None
            raise FileNotFoundError(
                f'{what} {path} is a dangling symlink to '
                f'{os.readlink(path)!r}, which does not exist')
        raise FileNotFoundError(f'{what} {path} does not exist')
    if osp.isdir(path):
        raise IsADirectoryError(
            f'{what} {path} is a folder, expected a .pth file')
    if osp.getsize(path) == 0:
        raise ValueError(
            f'{what} {path} is empty (0 bytes), e.g. a save that was '
            'interrupted before anything was written; use another checkpoint')
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - reported with the path
        _raise_if_damaged(path, what, err)
        if isinstance(err, pickle.UnpicklingError):
            raise pickle.UnpicklingError(
                f'{what} {path} holds pickled Python objects that safe '
                f'loading (weights_only=True) refuses ({_refused_global(err)}'
                '). A whole pickled model (e.g. an official research '
                'checkpoint) must be converted first with its converter '
                'under tools/model_converters/ (--trust unpickles it; '
                'docs/user_guides/official_weights.md)') from err
        raise CorruptCheckpointError(
            f'{what} {path} cannot be loaded by torch.load: '
            f'{type(err).__name__}: {str(err)[:300]}') from err
    _raise_if_damaged(path, what)  # overwritten bytes load silently
    return obj


def check_checkpoint_file(path: str, what: str = 'checkpoint') -> str:
    """Check ``path`` by reading it (:func:`read_checkpoint`); returns it."""
    read_checkpoint(path, what)
    return str(path)


def load_legacy_checkpoint(path: str,
                           trust: bool = False,
                           map_location: Union[str, torch.device] = 'cpu',
                           source: Optional[str] = None) -> Any:
    """Load a file that may need full pickle (official checkpoints).

    :func:`read_checkpoint` first (a damaged file is refused whatever
    ``trust`` says); pickled objects are refused unless ``trust`` (the
    tools' ``--trust``), then unpickled after a
    :class:`TrustedUnpicklingWarning`.

    Args:
        path (str): The file.
        trust (bool): The file comes from a trusted source (unpickling can
            execute arbitrary code).
        map_location: Passed to :func:`torch.load`.
        source (str, optional): Where trusted files come from, for messages.
    """
    from_where = f' ({source})' if source else ''
    try:
        return read_checkpoint(path, 'checkpoint', map_location)
    except pickle.UnpicklingError as err:
        if not trust:
            raise RuntimeError(
                f'{path} cannot be loaded with weights_only=True ('
                f'{_refused_global(err.__cause__ or err)}). It is a legacy '
                'pickle; loading it can execute arbitrary code. If you trust '
                f'its source{from_where}, pass trust=True (the --trust flag '
                'of the tool you are using).') from err
    with warnings.catch_warnings():
        warnings.simplefilter('always', TrustedUnpicklingWarning)
        warnings.warn(
            f'{path} does not load with weights_only=True; unpickling it '
            'fully (weights_only=False) because trust=True / --trust was '
            'given. This can execute code stored in the file: use --trust '
            f'only for files from a source you trust{from_where}.',
            TrustedUnpicklingWarning,
            stacklevel=2)
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:  # noqa: BLE001 - a truncated legacy pickle
        _raise_if_damaged(path, 'checkpoint', err)
        raise


def find_resumable_checkpoint(work_dir: str) -> Tuple[Optional[str],
                                                      List[str]]:
    """The checkpoint ``--resume`` resumes from: the one
    ``<work_dir>/last_checkpoint`` names, else the newest ``*.pth`` that
    passes :func:`check_checkpoint_file`; and notes explaining any
    fallback."""
    notes: List[str] = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if not osp.isfile(pointer):
        notes.append(f'{pointer} does not exist')
    else:
        with open(pointer) as f:
            named = f.read().strip()
        if not named:
            notes.append(f'{pointer} is empty')
    candidates = sorted(glob.glob(osp.join(work_dir, '*.pth')),
                        key=lambda p: (osp.getmtime(p), p), reverse=True)
    for cand in ([named] if named else []) + candidates:
        try:
            check_checkpoint_file(cand)
        except (OSError, ValueError) as err:
            notes.append(f'{pointer} names an unusable checkpoint: {err}'
                         if cand is named else f'skipped {cand}: {err}')
            continue
        if cand is not named:
            notes.append(
                f'falling back to the newest valid checkpoint {cand}')
        return cand, notes
    return None, notes


def auto_resume_checkpoint(work_dir: str, logger: Any) -> Optional[str]:
    """:func:`find_resumable_checkpoint` with its notes logged; None when
    the work dir holds no checkpoint, :class:`CorruptCheckpointError` when
    every one found is refused (the user must choose to start over)."""
    resume_from, notes = find_resumable_checkpoint(work_dir)
    if resume_from is not None:
        for note in notes:
            logger.warning(f'--resume: {note}')
        logger.info(f'Auto-resuming from {resume_from}')
        return resume_from
    refused = [n for n in notes if n.startswith('skipped ')
               or 'names an unusable checkpoint' in n]
    if refused:
        raise CorruptCheckpointError(
            f'--resume: no usable checkpoint in {work_dir}; {len(refused)} '
            'tried and refused:\n  ' + '\n  '.join(refused) + '\nNothing was '
            'trained. Resume from an intact copy (--resume FILE), or run '
            'without --resume to start a new run from scratch (its '
            'checkpoints then replace last_checkpoint; the refused files stay '
            'where they are)')
    logger.warning(f'--resume: no checkpoint found in {work_dir} (' +
                   '; '.join(notes) + '); starting from scratch')
    return None


def nonfinite_tensors(state: Any, prefix: str = '') -> List[str]:
    """Dotted keys (``'state_dict.conv.weight'``) of the floating-point
    tensors holding NaN / Inf in nested dicts / lists / tuples ``state``."""
    bad: List[str] = []
    if isinstance(state, torch.Tensor):
        if (state.is_floating_point() or state.is_complex()) \
                and not bool(torch.isfinite(state).all()):
            bad.append(prefix or '<tensor>')
    elif isinstance(state, dict):
        for key, value in state.items():
            bad += nonfinite_tensors(value, f'{prefix}.{key}' if prefix
                                     else str(key))
    elif isinstance(state, (list, tuple)):
        for i, value in enumerate(state):
            bad += nonfinite_tensors(value, f'{prefix}[{i}]')
    return bad


def nonfinite_state(model: torch.nn.Module,
                    optim_wrapper: Optional[Any] = None) -> List[str]:
    """:func:`nonfinite_tensors` of a (wrapped) model's state dict and of an
    optim wrapper's (``'state_dict.<key>'``, ``'optimizer.<key>'``)."""
    from mmengine.model import is_model_wrapper
    model = model.module if is_model_wrapper(model) else model
    bad = nonfinite_tensors(model.state_dict(), 'state_dict')
    if hasattr(optim_wrapper, 'state_dict'):
        bad += nonfinite_tensors(optim_wrapper.state_dict(), 'optimizer')
    return bad


def short_list(items: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` items, comma-separated, and how many more."""
    items = list(items)
    return ', '.join(items[:limit]) + (f' and {len(items) - limit} more'
                                       if len(items) > limit else '')


def checkpoint_state_dict(obj: Any, path: str,
                          what: str = 'checkpoint') -> Dict[str, Any]:
    """The state dict of a loaded checkpoint (``{'state_dict': ...}`` or a
    bare mapping of names to tensors); ValueError naming the file else."""
    state = obj.get('state_dict', obj) if isinstance(obj, Mapping) else obj
    if not isinstance(state, Mapping) or not all(
            isinstance(k, str) for k in state):
        held = (f'a dict with keys {short_list(sorted(map(str, obj)))}'
                if isinstance(obj, Mapping) else f'a {type(obj).__name__}')
        raise ValueError(
            f'{what} {path} holds no state dict (a mapping of parameter '
            f'names to tensors) but {held}')
    return dict(state)


def state_mismatch(expected: Mapping[str, Any], state: Mapping[str, Any]
                   ) -> Tuple[List[str], List[str], List[str]]:
    """The keys of ``expected`` missing from ``state``, the keys of
    ``state`` not in ``expected``, and ``'key (state) vs (expected)'`` for
    each shape mismatch."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}'
        for k, v in expected.items() if isinstance(state.get(k), torch.Tensor)
        and tuple(state[k].shape) != tuple(v.shape)
    ]
    return missing, unexpected, shapes


#: Official (unconverted) weight files by name: ``keys`` (regular
#: expressions; a file matches when each fullmatches one of its keys, a
#: ``module.`` prefix removed), ``network`` and the converter ``command``
#: (``{src}``: the file), named by the checked loader.
OFFICIAL_WEIGHT_FILES: Dict[str, dict] = OrderedDict(
    seafusion=dict(
        keys=[r'vis_rgbd1\.dense\.conv1\.conv\.weight'],
        network='SeAFusion FusionNet (Linfeng-Tang/SeAFusion)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py seafusion {src} checkpoints/seafusion_mmfusenas.pth'),
    tardal=dict(
        keys=[r'dense\.0\.0\.weight', r'fuse\.\d+\.0\.weight'],
        network='TarDAL Generator (JinyuanLiu-CV/TarDAL tardal.pt / '
        'tardal+.pt / tardal++.pt)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py tardal {src} checkpoints/tardal_mmfusenas.pth'),
    ifcnn_max=dict(
        keys=[r'conv2\.bn\.running_var', r'conv1\.weight'],
        network='IFCNN (uzeful/IFCNN IFCNN-MAX.pth)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py ifcnn_max {src} checkpoints/ifcnn_max_mmfusenas.pth'),
    ruas=dict(
        keys=[r'enhance_net\.iems\.\d+\.cell\..+'],
        network='RUAS (vis-opt-group/RUAS or KarelZhang/RUAS)',
        command='python tools/model_converters/ruas_official_to_mmfusenas.py'
        ' {src} checkpoints/ruas_mmfusenas.pth'),
    tim=dict(
        keys=[r'(stem\.\d+\.conv2d|cells[23]?\.\d+\.preprocess1\.op\.\d+)'
              r'\..+'],
        network='TIM Network_Fusion9 (LiuZhu-CV/TIMFusion weights_*.pt)',
        command='python tools/model_converters/tim_official_to_mmfusenas.py'
        ' MODEL --stage1 {src} [--stage2 weights_2_*.pt] '
        'checkpoints/tim_mmfusenas.pth (MODEL: ivif, light, ct, pet or '
        'spect)'),
    hbl=dict(
        keys=[r'e\.encode\..+'],
        network='HBL Network (zhudear/HBLALS_pytorch)',
        command='python tools/model_converters/hbl_official_to_mmfusenas.py'
        ' {src} checkpoints/hbl_mmfusenas.pth --genotype '
        '{{lol,mit,sihr,uie}}'),
    dcnas=dict(
        keys=[r'(dep_encoder|rgb_encoder)\..+'],
        network='DCNAS StaticModel',
        command='python tools/model_converters/dcnas_official_to_mmfusenas'
        '.py {src} checkpoints/dcnas_mmfusenas.pth --arch ARCH'),
)


def identify_official_weights(keys: Sequence[str]) -> Optional[str]:
    """The name in :data:`OFFICIAL_WEIGHT_FILES` (e.g. ``'seafusion'``)
    whose signature the state-dict ``keys`` match, else None."""
    keys = [re.sub(r'^module\.', '', k) for k in keys]
    return next((name for name, spec in OFFICIAL_WEIGHT_FILES.items()
                 if all(any(re.fullmatch(p, k) for k in keys)
                        for p in spec['keys'])), None)


def load_model_weights(model: torch.nn.Module,
                       path: str,
                       strict: bool = True) -> Any:
    """:func:`read_checkpoint` then :func:`load_checked_state`: nothing is
    loaded unless every check passes; returns the checkpoint object."""
    obj = read_checkpoint(path)
    load_checked_state(model, obj, path, strict)
    return obj


def load_checked_state(model: torch.nn.Module,
                       checkpoint: Any,
                       path: str,
                       strict: bool = True,
                       what: str = 'checkpoint',
                       revise_keys: Sequence[Tuple[str, str]] = (
                           (r'^module\.', ''), ),
                       logger: Optional[Any] = None) -> None:
    """Load a checkpoint object read by :func:`read_checkpoint` into
    ``model``: a state dict inside, every tensor finite, keys and shapes
    fitting (:class:`CheckpointMismatchError` naming an official weight file
    not yet converted).

    Args:
        model (nn.Module): The model.
        checkpoint: The loaded object.
        path (str): The file, for messages.
        strict (bool): Keys must match both ways (shapes always).
        what (str): Names the file in messages.
        revise_keys: ``(pattern, replacement)`` applied to every key.
        logger (optional): Receives the warning of a non-strict load.
    """
    state = checkpoint_state_dict(checkpoint, path, what)
    # kept as MMEngine's loader does (old BatchNorm versions)
    metadata = getattr(checkpoint.get('state_dict', checkpoint) if
                       isinstance(checkpoint, Mapping) else checkpoint,
                       '_metadata', None)
    for pattern, repl in revise_keys:
        state = {re.sub(pattern, repl, k): v for k, v in state.items()}
    bad = nonfinite_tensors(state)
    if bad:
        raise FloatingPointError(
            f'{what} {path}: {len(bad)} tensor(s) hold NaN/Inf '
            f'({short_list(bad)}); the network would output garbage (e.g. '
            'black images). Use another checkpoint, e.g. an earlier one of '
            'the same run (docs/user_guides/reliability.md)')
    expected = model.state_dict()
    missing, unexpected, shapes = state_mismatch(expected, state)
    if shapes or (strict and (missing or unexpected)):
        prefix = (f'{what} {path} does not fit the model '
                  f'{type(model).__name__} of this config: ')
        official = identify_official_weights(list(state))
        if official is not None:
            spec = OFFICIAL_WEIGHT_FILES[official]
            raise CheckpointMismatchError(
                f'{prefix}it is an official {spec["network"]} weight file, '
                'not yet converted to this toolbox\'s keys. Convert it once '
                f'with\n  {spec["command"].format(src=path)}\nand give the '
                'converted file instead (docs/user_guides/official_weights.md'
                ')')
        problems = [text for text, items in (
            (f'{len(missing)} of the model\'s {len(expected)} keys missing '
             f'({short_list(missing)})', missing),
            (f'{len(unexpected)} unexpected key(s) '
             f'({short_list(unexpected)})', unexpected),
            (f'{len(shapes)} shape mismatch(es), checkpoint vs model '
             f'({short_list(shapes, 3)})', shapes)) if items]
        raise CheckpointMismatchError(
            f'{prefix}{"; ".join(problems)}. It was probably saved from '
            'another architecture or config (same network, another width?). '
            'To load the matching part on purpose, load it non-strictly '
            '(load_strict=False / strict=False); the rest keeps its '
            'initialisation')
    if missing or unexpected:
        from mmengine.logging import print_log
        print_log(
            f'{what} {path} loaded non-strictly: {len(missing)} model '
            f'key(s) keep their initialisation ({short_list(missing)}); '
            f'{len(unexpected)} checkpoint key(s) unused '
            f'({short_list(unexpected)})',
            logger=logger or 'current',
            level=30)
    state = OrderedDict(state)
    if metadata is not None:
        state._metadata = metadata  # type: ignore[attr-defined]
    model.load_state_dict(state, strict=False)


def save_converted_checkpoint(state_dict: Mapping[str, Any], meta: dict,
                              path: str) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` atomically (converters)."""
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(state_dict), meta=meta), buffer)
    atomic_write(buffer.getvalue(), path)
