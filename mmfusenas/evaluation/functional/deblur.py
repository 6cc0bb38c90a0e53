"""Deblurring metrics with the "maximum over integer shifts" convention.

Non-blind deconvolution results can be shifted by a pixel or two against
the ground truth (kernel centring conventions differ between methods), so
the Levin / FDN / official hyper-guidance evaluation crops a border of
width ``b = ⌊k/2⌋`` from the restored image and slides that crop over every
integer offset ``(dy, dx) ∈ [−b, b]²`` of the ground truth, reporting the
best PSNR (peak 1) and the SSIM at that offset. ``max_shift=0`` is the plain
border-cropped metric.
"""
from typing import Tuple

import numpy as np

from ._utils import ArrayLike, check_same_shape
from .enhancement import _chw
from .fusion import ssim as _ssim

__all__ = ['shift_max_psnr_ssim', 'shift_max_psnr']


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b)**2))
    return float('inf') if mse == 0 else float(10 * np.log10(1.0 / mse))


def shift_max_psnr_ssim(pred: ArrayLike,
                        gt: ArrayLike,
                        border: int,
                        max_shift: int | None = None,
                        with_ssim: bool = True,
                        ssim_mode: str = 'skimage',
                        data_range: float = 1.0
                        ) -> Tuple[float, float, Tuple[int, int]]:
    """Best PSNR over integer shifts, and the SSIM at that shift.

    ``pred[b:H−b, b:W−b]`` is compared with ``gt[b+dy : H−b+dy, b+dx :
    W−b+dx]`` for ``|dy|, |dx| <= max_shift``. Colour images: PSNR over all
    channels, SSIM averaged over channels.

    Args:
        pred, gt: ``(C, H, W)`` / ``(H, W)`` images in ``[0, 1]``.
        border (int): the cropped border ``b >= 0`` (official ``⌊k/2⌋``).
        max_shift (int, optional): largest offset; default ``border``
            (official); 0 gives the plain border-cropped metric.
        with_ssim (bool): also compute the SSIM. Defaults to True.
        ssim_mode (str): ``'skimage'`` (the official ``compare_ssim``: 7×7
            uniform window) or ``'gaussian'``. Defaults to ``'skimage'``.
        data_range (float): SSIM's ``L``. Defaults to 1.

    Returns:
        tuple: ``(psnr, ssim, (dy, dx))`` (``ssim`` NaN without
        ``with_ssim``).
    """
    p = np.asarray(_chw(pred, 'pred'), np.float64)
    g = np.asarray(_chw(gt, 'gt'), np.float64)
    check_same_shape(pred=p, gt=g)
    b = int(border)
    s = b if max_shift is None else int(max_shift)
    if b < 0 or s < 0 or s > b:
        raise ValueError(f'need 0 <= max_shift <= border, got border {b}, '
                         f'max_shift {s}')
    h, w = p.shape[1:]
    if 2 * b >= min(h, w):
        raise ValueError(f'border {b} leaves nothing of a {h}x{w} image')
    crop = p[:, b:h - b, b:w - b]
    best, best_off = -np.inf, (0, 0)
    for dy in range(-s, s + 1):
        for dx in range(-s, s + 1):
            val = _psnr(crop, g[:, b + dy:h - b + dy, b + dx:w - b + dx])
            if val > best:
                best, best_off = val, (dy, dx)
    ssim = float('nan')
    if with_ssim:
        dy, dx = best_off
        ref = g[:, b + dy:h - b + dy, b + dx:w - b + dx]
        ssim = float(np.mean([
            _ssim(crop[c], ref[c], ssim_mode, data_range)
            for c in range(p.shape[0])
        ]))
    return float(best), ssim, best_off


def shift_max_psnr(pred: ArrayLike, gt: ArrayLike, border: int,
                   max_shift: int | None = None) -> float:
    """PSNR part of :func:`shift_max_psnr_ssim`."""
    return shift_max_psnr_ssim(pred, gt, border, max_shift, False)[0]
