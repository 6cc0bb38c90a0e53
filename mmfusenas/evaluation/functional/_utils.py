"""Input helpers shared by the functional metrics: numpy / torch inputs,
single images or batches."""
import functools
from typing import Callable, Sequence, Tuple, Union

import numpy as np
import torch

#: a numpy array or a torch Tensor
ArrayLike = Union[np.ndarray, torch.Tensor]


def to_numpy(x: ArrayLike, name: str = 'input') -> np.ndarray:
    """Return ``x`` as a float64 numpy array (torch tensors are detached)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    elif isinstance(x, np.ndarray):
        x = x.astype(np.float64, copy=False)
    else:
        raise TypeError(f'{name} must be a numpy array or a torch Tensor, '
                        f'got {type(x).__name__}')
    return x


def to_gray2d(x: ArrayLike, name: str = 'input') -> np.ndarray:
    """Return a 2-D float64 array, squeezing singleton channel dims.

    Accepts ``(H, W)``, ``(1, H, W)`` or ``(H, W, 1)``.
    """
    x = to_numpy(x, name)
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    elif x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 2:
        raise ValueError(f'{name} must be a single-channel image of shape '
                         f'(H, W), (1, H, W) or (H, W, 1); got shape '
                         f'{tuple(x.shape)}')
    return x


def check_same_shape(**arrays: np.ndarray) -> None:
    """Raise a ValueError naming the arrays when their shapes differ."""
    shapes = {k: tuple(v.shape) for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        desc = ', '.join(f'{k}={s}' for k, s in shapes.items())
        raise ValueError(f'shape mismatch: {desc} (all must be equal)')


def as_batch(imgs: Sequence[ArrayLike],
             names: Sequence[str]) -> Tuple[list, bool]:
    """float64 ``(N, H, W)`` tensors of equal shape, and whether the inputs
    were single images: numpy arrays (``(H, W)``, ``(1, H, W)`` or ``(H, W,
    1)``) or 2-D tensors; other tensors are batches ``(N, H, W)`` or ``(N,
    1, H, W)``."""
    out, single = [], False
    for x, name in zip(imgs, names):
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(to_gray2d(x, name).copy())[None]
            single = True
        elif not isinstance(x, torch.Tensor):
            raise TypeError(f'{name} must be a numpy array or a torch '
                            f'Tensor, got {type(x).__name__}')
        elif x.ndim == 2:
            x, single = x[None], True
        elif x.ndim == 4 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 3 or (single and x.shape[0] != 1):
            raise ValueError(f'{name} must be a gray image (H, W) or a batch '
                             f'(N, H, W) / (N, 1, H, W); got shape '
                             f'{tuple(x.shape)}')
        out.append(x.detach().to(torch.float64))
    shapes = [tuple(x.shape[1 if single else 0:]) for x in out]
    if len(set(shapes)) > 1:
        raise ValueError('shape mismatch: ' + ', '.join(
            f'{n}={s}' for n, s in zip(names, shapes)))
    return out, single


def batched_metric(*names: str) -> Callable:
    """Decorator of a metric ``fn(*images, **options)`` on float64 batches:
    the decorated function also takes single images (and returns a float,
    else the ``(N,)`` tensor), computed without autograd (see
    :func:`as_batch`)."""

    def wrap(fn):

        @functools.wraps(fn)
        def call(*args, **kwargs):
            if len(args) < len(names):
                raise TypeError(f'{fn.__name__} takes the images '
                                f'{", ".join(names)}')
            xs, single = as_batch(args[:len(names)], names)
            _reserve_heap()
            with torch.no_grad():
                v = fn(*xs, *args[len(names):], **kwargs)
            return float(v[0]) if single else v

        return call

    return wrap


def _reserve_heap() -> None:
    """Allocate and free one 31 MiB block, once per process: glibc then
    serves the metrics' multi-MB temporaries from its heap instead of
    mapping (and page-faulting) each one anew, which took about half of
    the CPU time. This is glibc's documented dynamic mmap threshold (no
    ``mallopt``); other allocators ignore it."""
    if not _RESERVED:
        _RESERVED.append(torch.empty(31 << 17, dtype=torch.float64).numel())


_RESERVED: list = []
