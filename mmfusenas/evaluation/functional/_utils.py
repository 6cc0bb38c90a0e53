"""Input helpers shared by the functional metrics."""
from typing import TYPE_CHECKING, Union

import numpy as np

if TYPE_CHECKING:
    import torch

#: a numpy array or a torch Tensor (torch is imported only for tensors)
ArrayLike = Union[np.ndarray, 'torch.Tensor']


def _is_tensor(x) -> bool:
    return any(c.__module__ == 'torch' and c.__name__ == 'Tensor'
               for c in type(x).__mro__)


def to_numpy(x: ArrayLike, name: str = 'input') -> np.ndarray:
    """Return ``x`` as a float64 numpy array (torch tensors are detached)."""
    if _is_tensor(x):
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


def quantize_uint8(x: ArrayLike) -> np.ndarray:
    """Map a ``[0, 1]`` image to the 8-bit grid exactly as it is saved.

    ``floor(clip(x, 0, 1) * 255 + 0.5)`` in float32: the arithmetic of
    ``FusedImageSaveHook`` / ``tools/fuse.py`` (``tensor_to_uint8_image``
    of :mod:`mmfusenas.engine.hooks.fused_image_save_hook`, rounding
    ``'round'``), so that values exactly half-way between two
    levels round as in the saved PNG (up; ``np.round`` in float64 rounded
    them to even or, after float32 noise, the other way). Returned as
    float64.
    """
    import torch
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError('quantize_uint8: expected a numpy array or a torch '
                        f'Tensor, got {type(x).__name__}')
    q = torch.floor(x.detach().float().clamp(0, 1) * 255 + 0.5)
    return q.cpu().numpy().astype(np.float64)
