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
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from .fileio import atomic_write

_REGISTERED = False


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """``getattr`` for ``weights_only`` loading: only the HistoryBuffer
    statistics methods MMEngine's checkpoints refer to."""
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
    """numpy globals that rebuild arrays, dtypes and scalars."""
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
    """Allow-list what MMEngine writes into checkpoints (its MessageHub
    state, numpy scalars) for ``weights_only=True`` loading (idempotent)."""
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4 has no allow-list and loads as before
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')] +
        _numpy_globals())
    _REGISTERED = True


allow_mmengine_checkpoint_globals()


class CorruptCheckpointError(ValueError):
    """A checkpoint file is truncated or damaged (``trust=True`` cannot load
    it either)."""


class TrustedUnpicklingWarning(UserWarning):
    """A file is fully unpickled because the caller passed ``trust=True``."""


# torch.save's formats: a zip archive, or a legacy pickle stream starting
# with the pickled magic number 0x1950a86a20f9469cfc6c (protocol 2)
_ZIP_MAGIC = b'PK\x03\x04'
_LEGACY_MAGIC = b'\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19'
_TRUNCATION_HINTS = ('unexpected eof', 'ran out of input', 'truncated',
                     'corrupt', 'invalid magic number', 'invalid load key')


def checkpoint_damage(path: str,
                      load_error: Optional[BaseException] = None
                      ) -> Optional[str]:
    """Why ``path`` is a damaged torch file, or None when it looks whole.

    A zip-format file is damaged when its archive cannot be read or an entry
    fails the CRC-32 ``torch.save`` stored for it (overwritten bytes that
    ``torch.load`` would load silently); a legacy file when ``load_error``
    (the error of loading it) says the stream ended early; a file with
    neither format's magic bytes is not a torch file.
    """
    with open(path, 'rb') as f:
        head = f.read(len(_LEGACY_MAGIC))
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()  # reads every entry, checks CRC-32
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError,
                RuntimeError) as err:
            return ('cannot be read by torch.load: a zip archive '
                    '(torch.save format) that is truncated or damaged: '
                    f'{type(err).__name__}: {err}')
        if bad is not None:
            return (f'is corrupt: entry {bad} of its zip archive fails its '
                    'CRC-32 check: '
                    'bytes of the file were overwritten or lost')
        if not any(n == 'data.pkl' or n.endswith('/data.pkl')
                   for n in names):
            return ('cannot be read by torch.load: a zip archive without '
                    'data.pkl')
        return None
    text = f'{type(load_error).__name__}: {load_error}'
    if head == _LEGACY_MAGIC:
        if isinstance(load_error, EOFError) or any(
                h in text.lower() for h in _TRUNCATION_HINTS):
            return ('cannot be read by torch.load: a legacy (non-zip) '
                    f'torch file that is truncated or damaged: {text[:300]}')
        return None
    return (f'cannot be read by torch.load: not a PyTorch file (it starts '
            f'with {head[:8]!r}){": " + text[:300] if load_error else ""}')


def _corrupt(what: str, path: str, problem: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f'{what} {path} ({osp.getsize(path)} bytes) {problem}. '
        'Use an intact copy (save or download it again); no loading option '
        'can read it (docs/user_guides/reliability.md)')


def _raise_if_damaged(path: str, err: Optional[BaseException],
                      what: str = 'checkpoint') -> None:
    problem = checkpoint_damage(path, err)
    if problem is not None:
        raise _corrupt(what, path, problem) from err


def load_legacy_checkpoint(path: str,
                           trust: bool = False,
                           map_location: Union[str, torch.device] = 'cpu',
                           source: Optional[str] = None) -> Any:
    """Load a file that may need full pickle (official checkpoints).

    ``weights_only=True`` first (a loaded zip file is also CRC-checked); a
    damaged file raises :class:`CorruptCheckpointError` whatever ``trust``
    says; a whole legacy pickle is refused unless ``trust`` (the tools'
    ``--trust``), then unpickled after a :class:`TrustedUnpicklingWarning`.

    Args:
        path (str): The file.
        trust (bool): The file comes from a trusted source (unpickling can
            execute arbitrary code).
        map_location: Passed to :func:`torch.load`.
        source (str, optional): Where trusted files come from, for messages.

    Returns:
        The loaded object.
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
        with warnings.catch_warnings():
            warnings.simplefilter('always', TrustedUnpicklingWarning)
            warnings.warn(
                f'{path} does not load with weights_only=True; unpickling '
                'it fully (weights_only=False) because trust=True / --trust '
                'was given. This can execute code stored in the file: use '
                f'--trust only for files from a source you trust{from_where}.',
                TrustedUnpicklingWarning,
                stacklevel=2)
        try:
            return torch.load(path, map_location=map_location,
                              weights_only=False)
        except Exception as err:  # noqa: BLE001 - a truncated legacy pickle
            _raise_if_damaged(path, err)
            raise
    _raise_if_damaged(path, None)  # overwritten bytes load silently
    return obj


def check_checkpoint_file(path: str, what: str = 'checkpoint') -> str:
    """Check that ``path`` is a readable, whole checkpoint file.

    Refused, naming the file: no path, a symlink loop or dangling link, a
    missing file, a folder, zero bytes, a truncated or foreign file, a zip
    entry failing its CRC-32 (:func:`checkpoint_damage`). A legacy (non-zip)
    file is loaded with ``weights_only=True`` to check it.

    Args:
        path (str): The file.
        what (str): Names the file in messages.

    Returns:
        str: ``path``.
    """
    if path is None or not str(path).strip():
        raise FileNotFoundError(f'{what}: no file given (empty path)')
    path = str(path)
    if osp.islink(path) and not osp.exists(path):
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
    if not osp.exists(path):
        raise FileNotFoundError(f'{what} {path} does not exist')
    if osp.isdir(path):
        raise IsADirectoryError(
            f'{what} {path} is a folder, expected a .pth file')
    if osp.getsize(path) == 0:
        raise ValueError(
            f'{what} {path} is empty (0 bytes), e.g. a save that was '
            'interrupted before anything was written; use another checkpoint')
    error = None
    if not zipfile.is_zipfile(path):
        try:
            torch.load(path, map_location='cpu', weights_only=True)
        except Exception as err:  # noqa: BLE001 - reported with the path
            error = err
    problem = checkpoint_damage(path, error)
    if problem is None and error is not None:
        problem = (f'cannot be read by torch.load: {type(error).__name__}'
                   f': {str(error)[:300]} (a legacy pickle? see '
                   'load_legacy_checkpoint)')
    if problem is not None:
        raise _corrupt(what, path, problem) from error
    return path


def find_resumable_checkpoint(work_dir: str) -> Tuple[Optional[str],
                                                      List[str]]:
    """The checkpoint ``--resume`` resumes from: the one
    ``<work_dir>/last_checkpoint`` names, else the newest ``*.pth`` that
    passes :func:`check_checkpoint_file`.

    Returns:
        tuple[str | None, list[str]]: The checkpoint (None when there is no
        valid one) and notes explaining any fallback.
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
    for cand in sorted(glob.glob(osp.join(work_dir, '*.pth')),
                       key=lambda p: (osp.getmtime(p), p), reverse=True):
        try:
            check_checkpoint_file(cand)
        except (OSError, ValueError) as err:
            notes.append(f'skipped {cand}: {err}')
            continue
        notes.append(f'falling back to the newest valid checkpoint {cand}')
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


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model (keys or shapes)."""


def read_checkpoint(path: str,
                    what: str = 'checkpoint',
                    map_location: Union[str, torch.device] = 'cpu') -> Any:
    """Check ``path`` (:func:`check_checkpoint_file`) and load it with
    ``torch.load(weights_only=True)``; every error names the file (as
    ``what``), a file needing full unpickling the converter to use."""
    check_checkpoint_file(path, what)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r'GLOBAL ([\w.]+)', str(err))
        reason = (f'e.g. {found[1]}' if found else
                  str(err).strip().split('\n')[0][:200])
        raise pickle.UnpicklingError(
            f'{what} {path} holds pickled Python objects that safe loading '
            f'(weights_only=True) refuses ({reason}). A whole pickled model '
            '(e.g. an official research checkpoint) must be converted first '
            'with its converter under tools/model_converters/ (--trust '
            'unpickles it; docs/user_guides/official_weights.md)') from None
    except Exception as err:  # noqa: BLE001 - reported with the path
        _raise_if_damaged(path, err, what)
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


def load_model_weights(model: torch.nn.Module,
                       path: str,
                       strict: bool = True,
                       what: str = 'checkpoint',
                       revise_keys: Sequence[Tuple[str, str]] = (
                           (r'^module\.', ''), ),
                       map_location: Union[str, torch.device] = 'cpu',
                       logger: Optional[Any] = None) -> Any:
    """Load weights from ``path`` into ``model`` through every check:
    :func:`read_checkpoint`, then :func:`load_checked_state`. Nothing is
    loaded unless every check passes.

    Args:
        model (nn.Module): The model.
        path (str): The checkpoint file.
        strict (bool): Keys must match both ways (shapes always).
        what (str): Names the file in messages.
        revise_keys: ``(pattern, replacement)`` applied to every key.
        map_location: Passed to :func:`torch.load`.
        logger (optional): Receives the warning of a non-strict load.

    Returns:
        The loaded checkpoint object.
    """
    obj = read_checkpoint(path, what, map_location)
    load_checked_state(model, obj, path, strict, what, revise_keys, logger)
    return obj


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
    not yet converted); arguments as in :func:`load_model_weights`."""
    from .official_weights import recognise_official_weights
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
    """Write ``{'state_dict': ..., 'meta': ...}`` atomically (converters)."""
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(state_dict), meta=meta), buffer)
    atomic_write(buffer.getvalue(), path)
