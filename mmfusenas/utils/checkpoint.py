"""Safe checkpoint loading with ``torch.load(weights_only=True)``.

MMEngine 0.10.x checkpoints hold its ``MessageHub`` state, which
``torch.load(weights_only=True)`` (the default since torch 2.6) refuses.
:func:`allow_mmengine_checkpoint_globals` allow-lists exactly those types;
the unpickler stays restricted and ``weights_only`` is never switched off.
Foreign legacy pickles are loaded by :func:`load_legacy_checkpoint` only
with ``trust=True`` (the tools' ``--trust``). The module also checks
checkpoint files before loading (:func:`check_checkpoint_file`), finds
the checkpoint to resume from (:func:`auto_resume_checkpoint`), finds NaN /
Inf state (:func:`nonfinite_state`) and loads weights strictly
(:func:`load_model_weights`, raising :class:`CheckpointMismatchError`).
"""
import errno
import glob
import os
import os.path as osp
import warnings
import zipfile
from collections import OrderedDict
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

_REGISTERED = False


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Restricted stand-in for ``getattr`` during ``weights_only`` loading.

    Only ``getattr(HistoryBuffer, <statistics method>)`` is resolved, which
    is the one use mmengine's checkpoints make of ``getattr``.
    """
    allowed = set(HistoryBuffer._statistics_methods) | {
        'min', 'max', 'mean', 'current'
    }
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise RuntimeError(
        f'Refusing to resolve getattr({obj!r}, {name!r}) while loading a '
        'checkpoint with weights_only=True: only HistoryBuffer statistics '
        'methods are allowed. Load untrusted files only after inspecting '
        'them; see mmfusenas.utils.checkpoint.load_legacy_checkpoint.')


def _numpy_globals() -> List[Any]:
    """numpy globals needed to rebuild arrays, dtypes and scalars."""
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
        prefix = 'numpy._core.multiarray'
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
        prefix = 'numpy.core.multiarray'
    items: List[Union[Any, Tuple[Any, str]]] = [
        np.ndarray, np.dtype, (_reconstruct, f'{prefix}._reconstruct'),
        (scalar, f'{prefix}.scalar')
    ]
    dtypes_module = getattr(np, 'dtypes', None)  # numpy >= 1.25
    if dtypes_module is not None:
        items += [
            getattr(dtypes_module, name) for name in dir(dtypes_module)
            if name.endswith('DType')
        ]
    return items


def allow_mmengine_checkpoint_globals() -> None:
    """Allow-list what MMEngine writes into checkpoints (idempotent).

    Called when this module or :mod:`mmfusenas.registry` is imported (every
    component and tool imports one of them), so ``runner.resume`` and
    ``load_checkpoint`` work under ``weights_only=True``.
    """
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4 has no allow-list and loads as before
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')] +
        _numpy_globals())
    _REGISTERED = True


allow_mmengine_checkpoint_globals()


class CorruptCheckpointError(ValueError):
    """A checkpoint file is truncated or damaged (not a format question:
    ``trust=True`` cannot load it either)."""


class TrustedUnpicklingWarning(UserWarning):
    """A file is being fully unpickled because the caller passed
    ``trust=True`` (a tool's ``--trust``)."""


# torch.save's formats: a zip archive, or (before torch 1.6, and with
# ``_use_new_zipfile_serialization=False``) a pickle stream that starts with
# the pickled magic number 0x1950a86a20f9469cfc6c (protocol 2)
_ZIP_MAGIC = b'PK\x03\x04'
_LEGACY_MAGIC = b'\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19'
# what torch / pickle say when a legacy stream ends early
_TRUNCATION_HINTS = ('unexpected eof', 'ran out of input', 'truncated',
                     'corrupt', 'invalid magic number', 'invalid load key')


def checkpoint_damage(path: str,
                      load_error: Optional[BaseException] = None
                      ) -> Optional[str]:
    """Why ``path`` is a damaged torch file, or None when it looks whole.

    A zip-format file (``torch.save``'s default) is damaged when its
    archive cannot be read (truncated: the central directory at its end is
    missing) or when an entry fails the CRC-32 that ``torch.save`` stores
    for it: bytes overwritten in the middle of the tensor data break
    neither the archive nor ``torch.load``, only that check. A legacy
    (non-zip) torch file has no checksum; it is called damaged when
    ``load_error`` (the error of loading it) says the stream ended early. A
    file with neither format's magic bytes is not a torch file.

    Args:
        path (str): The file.
        load_error (BaseException, optional): The error ``torch.load``
            raised on it, if any.

    Returns:
        str | None: What is wrong, for an error message.
    """
    with open(path, 'rb') as f:
        head = f.read(len(_LEGACY_MAGIC))
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()  # reads every entry, checks CRC-32
        except (zipfile.BadZipFile, OSError, EOFError, ValueError,
                RuntimeError) as err:
            return ('a zip archive (torch.save format) that is truncated or '
                    f'damaged: {type(err).__name__}: {err}')
        if bad is not None:
            return (f'entry {bad} of its zip archive fails its CRC-32 check: '
                    'bytes of the file were overwritten or lost')
        return None
    if head == _LEGACY_MAGIC:
        text = f'{type(load_error).__name__}: {load_error}' \
            if load_error is not None else ''
        if isinstance(load_error, EOFError) or any(
                hint in text.lower() for hint in _TRUNCATION_HINTS):
            return ('a legacy (non-zip) torch file that is truncated or '
                    f'damaged: {text[:300]}')
        return None
    return (f'not a PyTorch file: it starts with {head[:8]!r}, neither a zip '
            'archive (torch.save) nor a legacy torch pickle')


def _raise_if_damaged(path: str, err: BaseException) -> None:
    problem = checkpoint_damage(path, err)
    if problem is not None:
        raise CorruptCheckpointError(
            f'{path} ({osp.getsize(path)} bytes) is corrupt or truncated: '
            f'{problem}. Use an intact copy (download or save it again); '
            'no loading option can read it') from err


def load_legacy_checkpoint(path: str,
                           trust: bool = False,
                           map_location: Union[str, torch.device] = 'cpu',
                           source: Optional[str] = None) -> Any:
    """Load a checkpoint that may need full pickle (``weights_only=False``).

    ``weights_only=True`` is tried first; a zip-format file it loads is
    also checked against its CRC-32s. When it fails, a damaged file
    (see :func:`checkpoint_damage`) raises :class:`CorruptCheckpointError`
    whatever ``trust`` says; a whole legacy pickle is refused without
    ``trust``; with ``trust`` it is fully unpickled after a
    :class:`TrustedUnpicklingWarning` that says so, on every call (the
    warning filter is set to ``'always'`` for it). All converters of
    ``tools/model_converters`` load official files through this function.

    Args:
        path (str): checkpoint file.
        trust (bool): the caller states that the file comes from a trusted
            source: unpickling can execute arbitrary code.
        map_location: passed to :func:`torch.load`.
        source (str, optional): where trusted files come from (e.g. the
            official repository), named in the messages.

    Returns:
        The loaded object.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        CorruptCheckpointError: the file is truncated or damaged.
        RuntimeError: the file needs full unpickling and ``trust`` is False.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    from_where = f' ({source})' if source else ''
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as safe_err:  # noqa: BLE001 - reported below
        _raise_if_damaged(path, safe_err)
        if not trust:
            raise RuntimeError(
                f'{path} cannot be loaded with weights_only=True '
                f'({type(safe_err).__name__}: {str(safe_err)[:200]}...). It '
                'is a legacy pickle; loading it can execute arbitrary code. '
                f'If you trust its source{from_where}, pass trust=True (the '
                '--trust flag of the tool you are using).') from safe_err
    else:
        # overwritten tensor bytes load without an error: check the CRC-32s
        _raise_if_damaged(path, None)
        return obj
    with warnings.catch_warnings():
        warnings.simplefilter('always', TrustedUnpicklingWarning)
        warnings.warn(
            f'{path} does not load with weights_only=True; unpickling it '
            'fully (torch.load(weights_only=False)) because trust=True / '
            '--trust was given. This can execute code stored in the file, '
            'with your permissions: use --trust only for files from a source '
            f'you trust{from_where}.',
            TrustedUnpicklingWarning,
            stacklevel=2)
    try:
        return torch.load(
            path, map_location=map_location, weights_only=False)
    except Exception as err:  # noqa: BLE001 - a truncated legacy pickle
        _raise_if_damaged(path, err)
        raise


# ----------------------------------------------------------------------
# checkpoint files: clear errors, a resumable one, finite state
# ----------------------------------------------------------------------
def check_checkpoint_file(path: str, what: str = 'checkpoint') -> str:
    """Check that ``path`` is a readable, whole checkpoint file.

    Each failure raises with the path and what is wrong: missing, a
    symlink loop or dangling link, a folder, zero bytes, a file
    ``torch.load`` cannot read (truncated, not a checkpoint), or a
    zip-format file (``torch.save``'s default) with an entry whose CRC-32
    does not match (bytes overwritten in the middle: ``torch.load`` would
    load them silently). A zip file is checked by reading its central
    directory, which a truncated file lacks, and its entries' checksums
    (:func:`checkpoint_damage`), which costs a read of the file but no
    unpickling; other files are loaded with ``weights_only=True``.

    Args:
        path (str): The file.
        what (str): Names the file in messages (e.g. ``'--resume
            checkpoint'``).

    Returns:
        str: ``path``.
    """
    if path is None or not str(path).strip():
        raise FileNotFoundError(f'{what}: no file given (empty path)')
    path = str(path)
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
                f'{os.readlink(path)!r}, which does not exist') from None
    if not osp.exists(path):
        raise FileNotFoundError(f'{what} {path} does not exist')
    if osp.isdir(path):
        raise IsADirectoryError(
            f'{what} {path} is a folder, expected a .pth file')
    size = osp.getsize(path)
    if size == 0:
        raise ValueError(
            f'{what} {path} is empty (0 bytes), e.g. a save that was '
            'interrupted before anything was written; use another checkpoint')
    try:
        if zipfile.is_zipfile(path):
            # torch.save's zip format: a truncated or overwritten file has no
            # readable central directory (it is at the end of the file);
            # reading the directory costs far less than unpickling
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
            if not any(n.endswith('/data.pkl') or n == 'data.pkl'
                       for n in names):
                raise ValueError('a zip archive without data.pkl')
        else:  # legacy (non-zip) torch format, or not a checkpoint at all
            torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001 - reported with the path
        raise CorruptCheckpointError(
            f'{what} {path} ({size} bytes) cannot be read by torch.load: '
            f'{type(err).__name__}: {str(err)[:300]}. It is truncated, '
            'corrupted, not a PyTorch checkpoint, or a legacy pickle (see '
            'docs/user_guides/reliability.md)') from err
    # bytes overwritten inside the tensor data leave the archive readable
    # and torch.load silent (it loads garbage, e.g. NaN): every entry is
    # checked against the CRC-32 torch.save stored for it
    problem = checkpoint_damage(path)
    if problem is not None:
        raise CorruptCheckpointError(
            f'{what} {path} ({size} bytes) is corrupt: {problem}. Loading it '
            'would give wrong weights / optimizer state; use another '
            'checkpoint (docs/user_guides/reliability.md)')
    return path


def find_resumable_checkpoint(work_dir: str) -> Tuple[Optional[str],
                                                      List[str]]:
    """The checkpoint ``--resume`` (without a path) should resume from.

    ``<work_dir>/last_checkpoint`` names it, as for MMEngine's
    :func:`~mmengine.runner.find_latest_checkpoint`. When that file is
    missing, empty or names a file that fails :func:`check_checkpoint_file`,
    the newest valid ``*.pth`` of the work dir (by modification time) is
    used instead, and the reason is returned in the notes.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        tuple[str | None, list[str]]: The checkpoint (``None`` when the
        work dir holds no valid one) and messages explaining any fallback.
    """
    notes: List[str] = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if not named:
            notes.append(f'{pointer} is empty')
        else:
            try:
                return check_checkpoint_file(named), notes
            except (OSError, ValueError) as err:
                notes.append(f'{pointer} names an unusable checkpoint: {err}')
    else:
        notes.append(f'{pointer} does not exist')
    candidates = sorted(
        glob.glob(osp.join(work_dir, '*.pth')),
        key=lambda p: (osp.getmtime(p), p),
        reverse=True)
    for cand in candidates:
        try:
            check_checkpoint_file(cand)
        except (OSError, ValueError) as err:
            notes.append(f'skipped {cand}: {err}')
            continue
        notes.append(f'falling back to the newest valid checkpoint {cand}')
        return cand, notes
    return None, notes


def auto_resume_checkpoint(work_dir: str, logger: Any) -> Optional[str]:
    """:func:`find_resumable_checkpoint` for auto-resume, its notes logged.

    Returns None (logged: the run starts from scratch) when the work dir
    holds no checkpoint; raises :class:`CorruptCheckpointError` when every
    one found is refused (starting over would repoint ``last_checkpoint``
    at the new run's files: the user must choose that).
    """
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
    """Keys of the floating-point tensors in ``state`` holding NaN / Inf.

    Walks nested dicts / lists (state dicts, optimizer states).

    Args:
        state: A tensor, or nested dicts / lists / tuples of them.
        prefix (str): Prepended to the reported keys.

    Returns:
        list[str]: Dotted keys (``'state_dict.conv.weight'``) of the
        non-finite tensors, in traversal order.
    """
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
    """:func:`nonfinite_tensors` of a model (a wrapper is unwrapped) and of
    an optimizer wrapper (skipped when None or not built): keys
    ``'state_dict.<key>'`` and ``'optimizer.<key>'``."""
    from mmengine.model import is_model_wrapper
    model = model.module if is_model_wrapper(model) else model
    bad = nonfinite_tensors(model.state_dict(), 'state_dict')
    if hasattr(optim_wrapper, 'state_dict'):
        bad += nonfinite_tensors(optim_wrapper.state_dict(), 'optimizer')
    return bad


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model (keys or shapes)."""


def read_checkpoint(path: str,
                    what: str = 'checkpoint',
                    map_location: Union[str, torch.device] = 'cpu') -> Any:
    """Load a checkpoint file safely, every failure naming the file.

    The file is checked by :func:`check_checkpoint_file` (missing, empty,
    truncated, not a torch file, an entry failing its CRC-32), then loaded
    with ``torch.load(weights_only=True)``. A file holding pickled objects
    outside the allow-list (e.g. a whole pickled module of research code)
    is refused with the converter to use instead; ``torch.load``'s own
    messages name no file.

    Args:
        path (str): The file.
        what (str): Names the file in messages (``'checkpoint'``,
            ``'--resume checkpoint'``, ...).
        map_location: passed to :func:`torch.load`.

    Returns:
        The loaded object.

    Raises:
        FileNotFoundError / IsADirectoryError / ValueError: see
            :func:`check_checkpoint_file`.
        CorruptCheckpointError: truncated or damaged.
        pickle.UnpicklingError: the file needs full unpickling.
    """
    import pickle
    check_checkpoint_file(path, what)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        import re
        found = re.search(r'GLOBAL ([\w.]+)', str(err))
        reason = (f'e.g. {found[1]}' if found else
                  str(err).strip().split('\n')[0][:200])
        raise pickle.UnpicklingError(
            f'{what} {path} holds pickled Python objects that safe loading '
            f'(weights_only=True) refuses ({reason}). '
            'Checkpoints of this toolbox hold tensors and MMEngine\'s '
            'history only; a whole pickled model (e.g. an official research '
            'checkpoint) must be converted first with its converter under '
            'tools/model_converters/ (their --trust flag unpickles it, only '
            'for a source you trust; docs/user_guides/official_weights.md)'
        ) from None
    except Exception as err:  # noqa: BLE001 - reported with the path
        _raise_if_damaged(path, err)
        raise CorruptCheckpointError(
            f'{what} {path} cannot be loaded by torch.load: '
            f'{type(err).__name__}: {str(err)[:300]}') from err


def short_list(items: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` items, comma-separated, and how many more."""
    items = list(items)
    shown = ', '.join(items[:limit])
    return shown + (f' and {len(items) - limit} more'
                    if len(items) > limit else '')


def checkpoint_state_dict(obj: Any, path: str,
                          what: str = 'checkpoint') -> Dict[str, Any]:
    """The state dict of a loaded checkpoint object.

    ``{'state_dict': ...}`` (MMEngine, converters) or a bare mapping of
    names to tensors.

    Raises:
        ValueError: ``obj`` holds no state dict; names the file.
    """
    state = obj.get('state_dict', obj) if isinstance(obj, Mapping) else obj
    # an empty state dict is valid: weight-free models (classical rules)
    if not isinstance(state, Mapping) or not all(
            isinstance(k, str) for k in state):
        held = (f'a dict with keys {short_list(sorted(map(str, obj)))}'
                if isinstance(obj, Mapping) else f'a {type(obj).__name__}')
        raise ValueError(
            f'{what} {path} holds no state dict (a mapping of parameter '
            f'names to tensors) but {held}')
    return dict(state)


def load_model_weights(model: torch.nn.Module,
                       path: str,
                       strict: bool = True,
                       what: str = 'checkpoint',
                       revise_keys: Sequence[Tuple[str, str]] = (
                           (r'^module\.', ''), ),
                       map_location: Union[str, torch.device] = 'cpu',
                       logger: Optional[Any] = None) -> Any:
    """The checked loader: weights from ``path`` into ``model``.

    Every path of the toolbox that loads weights for inference or testing
    (:func:`mmfusenas.apis.init_model` and so ``tools/fuse.py``,
    ``tools/enhance.py``, ``tools/deblur.py``, ``FusionInferencer``, the
    demos, ``tools/deployment/export.py``, the benchmarks;
    ``ReliableRunner.load_checkpoint`` for ``tools/test.py``, ``load_from``
    and ``--resume``) goes through these checks, in this order:

    1. the file (:func:`read_checkpoint`): exists, not empty, not
       truncated, every zip entry passes its CRC-32, loads with
       ``weights_only=True``;
    2. a state dict inside (:func:`checkpoint_state_dict`);
    3. every floating-point tensor finite (:func:`nonfinite_tensors`);
    4. the keys and shapes fit ``model`` (all of them when ``strict``;
       shapes always): a mismatch is summarised (counts and the first
       keys), and an official weight file not yet converted is recognised
       (:func:`mmfusenas.utils.official_weights.recognise_official_weights`)
       and the converter command given.

    Nothing is loaded into ``model`` unless every check passes.

    Args:
        model (nn.Module): The model.
        path (str): The checkpoint file.
        strict (bool): Every model key must be in the checkpoint and vice
            versa. Defaults to True.
        what (str): Names the file in messages.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            applied to every key, as MMEngine's ``load_checkpoint`` does
            (default: drop a ``module.`` prefix).
        map_location: passed to :func:`torch.load`.
        logger (optional): Receives a warning with the keys left out by a
            non-strict load. Defaults to MMEngine's current logger.

    Returns:
        The loaded checkpoint object (e.g. for its ``meta``).

    Raises:
        FloatingPointError: NaN / Inf weights; names the file and tensors.
        CheckpointMismatchError: keys or shapes do not fit the model.
        (and the errors of :func:`read_checkpoint`)
    """
    obj = read_checkpoint(path, what, map_location)
    load_checked_state(model, obj, path, strict, what, revise_keys, logger)
    return obj


def load_checked_state(model: torch.nn.Module,
                       checkpoint: Any,
                       path: str,
                       strict: bool = True,
                       what: str = 'checkpoint',
                       revise_keys: Sequence[Tuple[str, str]] = (
                           (r'^module\.', ''), ),
                       logger: Optional[Any] = None) -> None:
    """Checks 2-4 of :func:`load_model_weights` on a checkpoint object
    already read by :func:`read_checkpoint` (the runner calls its
    ``after_load_checkpoint`` hooks in between), then the load.

    Args:
        model (nn.Module): The model.
        checkpoint: The loaded checkpoint object.
        path (str): The file it came from (for the messages).
        strict, what, revise_keys, logger: as in :func:`load_model_weights`.
    """
    import re

    from .official_weights import recognise_official_weights
    state = checkpoint_state_dict(checkpoint, path, what)
    # as MMEngine's loader: the modules' version metadata stays (e.g. old
    # BatchNorm files without num_batches_tracked)
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
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}'
        for k, v in expected.items() if k in state
        and isinstance(state[k], torch.Tensor)
        and tuple(state[k].shape) != tuple(v.shape)
    ]
    if shapes or (strict and (missing or unexpected)):
        official = recognise_official_weights(state, path)
        if official is not None:
            raise CheckpointMismatchError(
                f'{what} {path} does not fit the model '
                f'{type(model).__name__} of this config: {official}')
        problems = []
        if missing:
            problems.append(f'{len(missing)} of the model\'s '
                            f'{len(expected)} keys missing '
                            f'({short_list(missing)})')
        if unexpected:
            problems.append(f'{len(unexpected)} unexpected key(s) '
                            f'({short_list(unexpected)})')
        if shapes:
            problems.append(f'{len(shapes)} shape mismatch(es), checkpoint '
                            f'vs model ({short_list(shapes, 3)})')
        raise CheckpointMismatchError(
            f'{what} {path} does not fit the model {type(model).__name__} '
            f'of this config: {"; ".join(problems)}. It was probably saved '
            'from another architecture or config (same network, another '
            'width?). To load the matching part on purpose, load it '
            'non-strictly (load_strict=False / strict=False); the rest keeps '
            'its initialisation')
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
    """Write ``{'state_dict': ..., 'meta': ...}`` atomically (converters).

    The file loads with ``weights_only=True`` (tensors and plain data).
    """
    import io

    from .fileio import atomic_write
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(state_dict), meta=meta), buffer)
    atomic_write(buffer.getvalue(), path)
