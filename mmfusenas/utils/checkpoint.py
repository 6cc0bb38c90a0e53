"""Safe checkpoint loading with ``torch.load(weights_only=True)``.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``: only
tensors, plain containers and explicitly allow-listed globals may be
unpickled. MMEngine 0.10.x checkpoints also hold its ``MessageHub`` state —
``HistoryBuffer`` objects with numpy arrays and scalars, and the buffer's
statistics methods pickled as ``getattr(HistoryBuffer, 'mean')`` — so
``runner.resume`` fails out of the box.

:func:`allow_mmengine_checkpoint_globals` allow-lists exactly those types,
and maps the pickled ``builtins.getattr`` to :func:`_history_buffer_getattr`,
which resolves only ``HistoryBuffer``'s registered statistics methods. The
unpickler stays restricted; ``weights_only`` is never switched off.

Foreign legacy pickles (e.g. official research checkpoints saved as whole
pickled objects) cannot be loaded that way. :func:`load_legacy_checkpoint`
loads them only when the caller passes ``trust=True``; tools expose this as
an explicit ``--trust`` flag.
"""
import hashlib
import os.path as osp
from typing import Any, Callable, List, Mapping, Sequence, Tuple, Union

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

    Called when :mod:`mmfusenas` is imported, so ``runner.resume`` and
    ``load_checkpoint`` work under ``weights_only=True``.
    """
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4 has no allow-list and loads as before
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')] +
        _numpy_globals())
    _REGISTERED = True


def load_legacy_checkpoint(path: str,
                           trust: bool = False,
                           map_location: Union[str, torch.device] = 'cpu'
                           ) -> Any:
    """Load a checkpoint that needs full pickle (``weights_only=False``).

    Args:
        path (str): checkpoint file.
        trust (bool): must be True: unpickling can execute arbitrary code,
            so the caller states that the file comes from a trusted source.
        map_location: passed to :func:`torch.load`.

    Returns:
        The unpickled object.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as safe_err:  # noqa: BLE001 - reported below
        if not trust:
            raise RuntimeError(
                f'{path} cannot be loaded with weights_only=True '
                f'({type(safe_err).__name__}: {str(safe_err)[:200]}...). It '
                'is a legacy pickle; loading it can execute arbitrary code. '
                'If you trust its source, pass trust=True (the --trust flag '
                'of the tool you are using).') from safe_err
    return torch.load(path, map_location=map_location, weights_only=False)


def file_sha256(path: str) -> str:
    """SHA-256 hex digest of a file (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def key_listing(title: str, items: Sequence[str], limit: int = 30) -> str:
    """``title (n):`` and at most ``limit`` indented items, for errors that
    list state-dict keys (checkpoint converters)."""
    shown = [f'  {item}' for item in items[:limit]]
    if len(items) > limit:
        shown.append(f'  ... and {len(items) - limit} more')
    return f'{title} ({len(items)}):\n' + '\n'.join(shown)


def check_key_coverage(mapped: Mapping[str, Any], origin: Mapping[str, str],
                       unmapped: Sequence[str], target: Mapping[str, Any],
                       source: str, kind: str = 'official') -> None:
    """Strict coverage check of a checkpoint conversion.

    Args:
        mapped: our key -> tensor, from the conversion rules.
        origin: our key -> the source key it came from (for messages).
        unmapped: source keys no rule maps.
        target: the target model's state dict (keys and shapes).
        source (str): name of the source, for the message.
        kind (str): what the source keys are called in the message.
            Defaults to 'official'.

    Raises:
        ValueError: any unmapped source key, mapped key the target lacks,
            target key nothing provides, or shape mismatch; every category
            found is listed (:func:`key_listing`).
    """
    unknown = sorted(f'{origin[k]} -> {k}' for k in mapped if k not in target)
    missing = sorted(k for k in target if k not in mapped)
    shapes = sorted(
        f'{origin[k]} {tuple(v.shape)} -> {k} {tuple(target[k].shape)}'
        for k, v in mapped.items()
        if k in target and tuple(v.shape) != tuple(target[k].shape))
    problems = []
    if unmapped:
        problems.append(
            key_listing(f'unexpected {kind} keys (no conversion rule)',
                        sorted(unmapped)))
    if unknown:
        problems.append(
            key_listing('unexpected keys (not in the target model)', unknown))
    if missing:
        problems.append(
            key_listing(f'missing keys (target keys no {kind} key provides)',
                        missing))
    if shapes:
        problems.append(key_listing('shape mismatches', shapes))
    if problems:
        raise ValueError(f'cannot convert {source} strictly:\n' +
                         '\n'.join(problems))


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
