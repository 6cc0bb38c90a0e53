"""Checkpoint files: checks, ``weights_only`` loading, strict weight loading;
errors name the file (docs/user_guides/reliability.md)."""
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
from typing import (Any, Dict, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import CheckpointLoader, load_state_dict

from .fileio import atomic_write


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` limited to the HistoryBuffer statistics methods."""
    allowed = {'min', 'max', 'mean', 'current'}
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise RuntimeError(f'Refusing to resolve getattr({obj!r}, {name!r}) in a '
                       'weights_only load: not a HistoryBuffer statistic')


def allow_mmengine_checkpoint_globals() -> None:
    """Allow-list what MMEngine writes into checkpoints (MessageHub state,
    numpy arrays and scalars) for ``weights_only=True`` loading."""
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
    """A truncated or damaged checkpoint file (``trust`` cannot help)."""


class TrustedUnpicklingWarning(UserWarning):
    """A file is fully unpickled because the caller passed ``trust=True``."""


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model (keys or shapes)."""


# torch.save's formats: a zip archive, or a legacy pickle stream
_ZIP_MAGIC = b'PK\x03\x04'
_LEGACY_MAGIC = b'\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19'
_TRUNCATION_HINTS = ('unexpected eof', 'ran out of input', 'truncated',
                     'corrupt', 'invalid magic number', 'invalid load key')


def _raise_if_damaged(path: str, what: str,
                      err: Optional[BaseException] = None) -> None:
    """Raise :class:`CorruptCheckpointError` naming ``path`` for an unreadable
    or CRC-failing zip archive, a truncated legacy file or neither format."""
    with open(path, 'rb') as f:
        head = f.read(len(_LEGACY_MAGIC))
    text = f'{type(err).__name__}: {str(err)[:300]}'
    problem = None
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()  # reads every entry, checks CRC-32
            if bad is not None:
                problem = f'is corrupt: zip entry {bad} fails its CRC-32 check'
        except (zipfile.BadZipFile, OSError, EOFError, ValueError,
                RuntimeError) as zip_err:
            problem = ('cannot be read by torch.load: a truncated or damaged '
                       f'zip archive: {type(zip_err).__name__}: {zip_err}')
    elif head != _LEGACY_MAGIC:
        problem = ('cannot be read by torch.load: not a PyTorch file (it '
                   f'starts with {head[:8]!r}){": " + text if err else ""}')
    elif isinstance(err, EOFError) or err is not None and any(
            h in text.lower() for h in _TRUNCATION_HINTS):
        problem = ('cannot be read by torch.load: a truncated or damaged '
                   f'legacy torch file: {text}')
    if problem is not None:
        raise CorruptCheckpointError(
            f'{what} {path} ({osp.getsize(path)} bytes) {problem}. Use an '
            'intact copy (docs/user_guides/reliability.md)') from err


def read_checkpoint(path: str,
                    what: str = 'checkpoint',
                    map_location: Union[str, torch.device] = 'cpu') -> Any:
    """``torch.load(path, weights_only=True)``, refusing a missing, empty,
    truncated, foreign or CRC-failing file, a folder or a bad symlink, and
    pickled objects (naming the converters); errors name ``what``."""
    if path is None or not str(path).strip():
        raise FileNotFoundError(f'{what}: no file given (path {path!r})')
    path = str(path)
    try:
        os.stat(path)
    except OSError as err:
        why = ('is a symlink loop' if err.errno == errno.ELOOP else
               f'is a dangling symlink to {os.readlink(path)!r}'
               if osp.islink(path) else f'cannot be read: {err.strerror}'
               if err.errno != errno.ENOENT else 'does not exist')
        raise FileNotFoundError(f'{what} {path} {why}') from None
    if osp.isdir(path):
        raise IsADirectoryError(f'{what} {path} is a folder, not a file')
    if osp.getsize(path) == 0:
        raise ValueError(f'{what} {path} is empty (0 bytes), e.g. an '
                         'interrupted save; use another checkpoint')
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - reported with the path
        _raise_if_damaged(path, what, err)
        if isinstance(err, pickle.UnpicklingError):
            found = re.search(r'GLOBAL ([\w.]+)', str(err))
            refused = f'e.g. {found[1]}' if found else str(err).strip(
            ).split('\n')[0][:200]
            raise pickle.UnpicklingError(
                f'{what} {path} holds pickled Python objects that '
                f'weights_only loading refuses ({refused}); convert it first '
                'with its converter in tools/model_converters/ (--trust '
                'unpickles it; docs/user_guides/official_weights.md)') from err
        raise CorruptCheckpointError(
            f'{what} {path} cannot be loaded by torch.load: '
            f'{type(err).__name__}: {str(err)[:300]}') from err
    _raise_if_damaged(path, what)  # overwritten bytes load silently
    return obj


def load_legacy_checkpoint(path: str, trust: bool = False,
                           what: str = 'checkpoint') -> Any:
    """:func:`read_checkpoint`, then, only if ``trust`` (``--trust``), a full
    unpickling announced by a :class:`TrustedUnpicklingWarning`; a damaged
    file is refused either way."""
    try:
        return read_checkpoint(path, what)
    except pickle.UnpicklingError as err:
        if not trust:
            raise RuntimeError(
                f'{path} is a legacy pickle, which can execute code when '
                'loaded; if you trust its source, pass trust=True (the '
                'tool\'s --trust)') from err
    with warnings.catch_warnings():
        warnings.simplefilter('always', TrustedUnpicklingWarning)
        warnings.warn(
            f'{path}: unpickling it fully (weights_only=False) because '
            '--trust was given; this can execute code stored in the file',
            TrustedUnpicklingWarning, stacklevel=2)
    try:
        return torch.load(path, map_location='cpu', weights_only=False)
    except Exception as err:  # noqa: BLE001 - a truncated legacy pickle
        _raise_if_damaged(path, what, err)
        raise


def find_resumable_checkpoint(work_dir: str) -> Tuple[Optional[str],
                                                      List[str]]:
    """The checkpoint ``--resume`` takes, and notes explaining any fallback."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    named, notes = None, []
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
    if not named:
        notes.append(f'{pointer} ' + ('does not exist' if named is None
                                      else 'is empty'))
    candidates = sorted(glob.glob(osp.join(work_dir, '*.pth')),
                        key=lambda p: (osp.getmtime(p), p), reverse=True)
    for cand in ([named] if named else []) + candidates:
        try:
            read_checkpoint(cand)
        except (OSError, ValueError) as err:
            notes.append(f'{pointer} names an unusable checkpoint: {err}'
                         if cand is named else f'skipped {cand}: {err}')
            continue
        return cand, notes + [
            f'falling back to the newest valid checkpoint {cand}'
        ] * (cand is not named)
    return None, notes


def auto_resume_checkpoint(work_dir: str, logger: Any) -> Optional[str]:
    """:func:`find_resumable_checkpoint` with its notes logged."""
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
            'tried and refused:\n  ' + '\n  '.join(refused) + '\nResume from '
            'an intact copy (--resume FILE), or run without --resume to start '
            'a new run from scratch')
    logger.warning(f'--resume: no checkpoint found in {work_dir} (' +
                   '; '.join(notes) + '); starting from scratch')
    return None


def _tensors(state: Any, prefix: str = '') -> Iterator[Tuple[str, Any]]:
    """``(dotted key, tensor)`` of the tensors in nested dicts / lists /
    tuples ``state``."""
    if isinstance(state, torch.Tensor):
        yield prefix or '<tensor>', state
        return
    if isinstance(state, dict):
        items = [(f'{prefix}.{k}' if prefix else str(k), v)
                 for k, v in state.items()]
    elif isinstance(state, (list, tuple)):
        items = [(f'{prefix}[{i}]', v) for i, v in enumerate(state)]
    else:
        return
    for key, value in items:
        yield from _tensors(value, key)


def nonfinite_tensors(state: Any, prefix: str = '') -> List[str]:
    """Dotted keys (``'state_dict.conv.weight'``) of the floating-point
    tensors holding NaN / Inf in nested dicts / lists / tuples ``state``
    (one fused max-abs norm first: no per-tensor check when it is finite)."""
    items = [(k, t) for k, t in _tensors(state, prefix)
             if (t.is_floating_point() or t.is_complex()) and t.numel()]
    if not items or torch.isfinite(torch.nn.utils.get_total_norm(
            [t for _, t in items], float('inf'))):
        return []
    return [k for k, t in items if not torch.isfinite(t).all()]


def short_list(items: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` items, comma-separated, and how many more."""
    items = list(items)
    return ', '.join(items[:limit]) + (f' and {len(items) - limit} more'
                                       if len(items) > limit else '')


def checkpoint_state_dict(obj: Any, path: str,
                          what: str = 'checkpoint') -> Mapping[str, Any]:
    """The state dict of a loaded checkpoint; ValueError naming the file."""
    state = obj.get('state_dict', obj) if isinstance(obj, Mapping) else obj
    if not isinstance(state, Mapping) or not all(
            isinstance(k, str) for k in state):
        held = (f'a dict with keys {short_list(sorted(map(str, obj)))}'
                if isinstance(obj, Mapping) else f'a {type(obj).__name__}')
        raise ValueError(
            f'{what} {path} holds no state dict (a mapping of parameter '
            f'names to tensors) but {held}')
    return state


def state_mismatch(expected: Mapping[str, Any], state: Mapping[str, Any]
                   ) -> Tuple[List[str], List[str], List[str]]:
    """Missing keys, unexpected keys and ``'key (state) vs (expected)'``."""
    return ([k for k in expected if k not in state],
            [k for k in state if k not in expected],
            [f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}'
             for k, v in expected.items()
             if isinstance(state.get(k), torch.Tensor)
             and tuple(state[k].shape) != tuple(v.shape)])


#: Official weight files: ``keys`` (regular expressions, each fullmatching
#: one key, a ``module.`` prefix removed), ``network`` and the converter
#: ``command`` (``{src}``: the file) that the checked loader names.
OFFICIAL_WEIGHT_FILES: Dict[str, dict] = dict(
    seafusion=dict(
        keys=[r'vis_rgbd1\.dense\.conv1\.conv\.weight'],
        network='SeAFusion FusionNet (Linfeng-Tang/SeAFusion)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py seafusion {src} work_dirs/seafusion_mmfusenas.pth'),
    tardal=dict(
        keys=[r'dense\.0\.0\.weight', r'fuse\.\d+\.0\.weight'],
        network='TarDAL Generator (JinyuanLiu-CV/TarDAL tardal.pt / '
        'tardal+.pt / tardal++.pt)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py tardal {src} work_dirs/tardal_mmfusenas.pth'),
    ifcnn_max=dict(
        keys=[r'conv2\.bn\.running_var', r'conv1\.weight'],
        network='IFCNN (uzeful/IFCNN IFCNN-MAX.pth)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py ifcnn_max {src} work_dirs/ifcnn_max_mmfusenas.pth'),
    ruas=dict(
        keys=[r'enhance_net\.iems\.\d+\.cell\..+'],
        network='RUAS (vis-opt-group/RUAS or KarelZhang/RUAS)',
        command='python tools/model_converters/ruas_official_to_mmfusenas.py'
        ' {src} work_dirs/ruas_mmfusenas.pth'),
    tim=dict(
        keys=[r'(stem\.\d+\.conv2d|cells[23]?\.\d+\.preprocess1\.op\.\d+)'
              r'\..+'],
        network='TIM Network_Fusion9 (LiuZhu-CV/TIMFusion weights_*.pt)',
        command='python tools/model_converters/tim_official_to_mmfusenas.py'
        ' MODEL --stage1 {src} [--stage2 weights_2_*.pt] '
        'work_dirs/tim_mmfusenas.pth (MODEL: ivif, light, ct, pet or '
        'spect)'),
    hbl=dict(
        keys=[r'e\.encode\..+'],
        network='HBL Network (zhudear/HBLALS_pytorch)',
        command='python tools/model_converters/hbl_official_to_mmfusenas.py'
        ' {src} work_dirs/hbl_mmfusenas.pth --genotype '
        '{{lol,mit,sihr,uie}}'),
    dcnas=dict(
        keys=[r'(dep_encoder|rgb_encoder)\..+'],
        network='DCNAS StaticModel',
        command='python tools/model_converters/dcnas_official_to_mmfusenas'
        '.py {src} work_dirs/dcnas_mmfusenas.pth --arch ARCH'),
)


def identify_official_weights(keys: Sequence[str]) -> Optional[str]:
    """The :data:`OFFICIAL_WEIGHT_FILES` entry ``keys`` match, else None."""
    keys = [re.sub(r'^module\.', '', k) for k in keys]
    return next((name for name, spec in OFFICIAL_WEIGHT_FILES.items()
                 if all(any(re.fullmatch(p, k) for k in keys)
                        for p in spec['keys'])), None)


def check_state(model: torch.nn.Module,
                checkpoint: Any,
                path: str,
                strict: bool = True,
                what: str = 'checkpoint') -> Dict[str, Any]:
    """The state dict of ``checkpoint`` (``module.`` removed) if finite and
    its keys (if ``strict``) and shapes fit ``model``, else an error naming
    ``path`` (and the converter of an official weight file)."""
    raw = checkpoint_state_dict(checkpoint, path, what)
    state = OrderedDict((re.sub(r'^module\.', '', k), v)
                        for k, v in raw.items())
    bad = nonfinite_tensors(state)
    if bad:
        raise FloatingPointError(
            f'{what} {path}: {len(bad)} tensor(s) hold NaN/Inf '
            f'({short_list(bad)}); use another checkpoint, e.g. an earlier '
            'one of the same run')
    expected = model.state_dict()
    missing, unexpected, shapes = state_mismatch(expected, state)
    if shapes or strict and (missing or unexpected):
        spec = OFFICIAL_WEIGHT_FILES.get(identify_official_weights(state))
        problems = '; '.join(text for text, items in (
            (f'{len(missing)} of the model\'s {len(expected)} keys missing '
             f'({short_list(missing)})', missing),
            (f'{len(unexpected)} unexpected key(s) '
             f'({short_list(unexpected)})', unexpected),
            (f'{len(shapes)} shape mismatch(es), checkpoint vs model '
             f'({short_list(shapes, 3)})', shapes)) if items)
        raise CheckpointMismatchError(
            f'{what} {path} does not fit the model {type(model).__name__} of '
            'this config: ' + (
                f'it is an official {spec["network"]} weight file; convert it '
                f'once with\n  {spec["command"].format(src=path)}\n'
                '(docs/user_guides/official_weights.md)' if spec else
                f'{problems}. Saved with another architecture or config? '
                'strict=False (in a config: default_hooks.checked_load.'
                'strict=False) loads the matching part'))
    state._metadata = getattr(raw, '_metadata', OrderedDict())
    return state


def load_model_weights(model: torch.nn.Module,
                       path: str,
                       strict: bool = True) -> Any:
    """Load the checkpoint ``path`` into ``model`` as MMEngine's runner
    does, after :func:`read_checkpoint` and :func:`check_state`; returns the
    loaded checkpoint."""
    obj = read_checkpoint(path)
    load_state_dict(model, check_state(model, obj, path, strict),
                    logger='current')  # keys checked above
    return obj


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_local_checkpoint(filename: str,
                          map_location: Union[str, torch.device, None] = None
                          ) -> Any:
    """MMEngine's loader of local files (``load_from``, ``resume``,
    ``Pretrained`` ``init_cfg``): :func:`read_checkpoint`."""
    return read_checkpoint(osp.expanduser(filename), 'checkpoint',
                           map_location or 'cpu')


def save_converted_checkpoint(state_dict: Mapping[str, Any], meta: dict,
                              path: str) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` atomically (converters)."""
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(state_dict), meta=meta), buffer)
    atomic_write(buffer.getvalue(), path)
