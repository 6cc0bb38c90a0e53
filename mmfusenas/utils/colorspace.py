"""Colour-space conversions used across fusion, enhancement and metrics.

Fusion methods fuse the luminance of a colour source with the other (grey)
source and re-attach the colour source's chroma afterwards. We use the
full-range ITU-R BT.601 (JPEG) transform with its exact inverse
(:func:`rgb_to_ycbcr`, :func:`ycbcr_to_rgb`), so
``ycbcr_to_rgb(rgb_to_ycbcr(x)) == x`` up to float rounding; values are in
``[0, 1]``. :func:`rgb_to_gray` and :func:`luminance` give the Y channel,
:func:`recolor_pillow` re-attaches chroma as Pillow does. The widely
copied ``RGB2YCrCb`` of SeAFusion-style code rounds the gains; OpenCV's
``COLOR_RGB2YCrCb`` is the same transform in fixed point, ordered Y, Cr, Cb.
"""
import numpy as np
import torch

KR, KB = 0.299, 0.114
KG = 1.0 - KR - KB
CB_SCALE = 2.0 * (1.0 - KB)  # 1.772
CR_SCALE = 2.0 * (1.0 - KR)  # 1.402


def _check(x: torch.Tensor, dim: int, name: str) -> None:
    if x.shape[dim] != 3:
        raise ValueError(f'{name} expects 3 channels along dim {dim}, got '
                         f'a tensor of shape {tuple(x.shape)}')


def rgb_to_ycbcr(rgb: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Convert RGB in ``[0, 1]`` to YCbCr (channel order Y, Cb, Cr).

    Args:
        rgb (Tensor): image(s) with 3 channels along ``dim``.
        dim (int): the channel dimension. Defaults to -3 (``(..., 3, H, W)``).

    Returns:
        Tensor: same shape, channels Y, Cb, Cr, Cb/Cr centred at 0.5.
    """
    _check(rgb, dim, 'rgb_to_ycbcr')
    r, g, b = rgb.unbind(dim)
    y = KR * r + KG * g + KB * b
    cb = (b - y) / CB_SCALE + 0.5
    cr = (r - y) / CR_SCALE + 0.5
    return torch.stack([y, cb, cr], dim)


def ycbcr_to_rgb(ycbcr: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Exact inverse of :func:`rgb_to_ycbcr` (no clamping)."""
    _check(ycbcr, dim, 'ycbcr_to_rgb')
    y, cb, cr = ycbcr.unbind(dim)
    cb = cb - 0.5
    cr = cr - 0.5
    r = y + CR_SCALE * cr
    b = y + CB_SCALE * cb
    g = (y - KR * r - KB * b) / KG
    return torch.stack([r, g, b], dim)


def rgb_to_gray(rgb: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Luma ``0.299 R + 0.587 G + 0.114 B``, keeping a size-1 channel dim."""
    _check(rgb, dim, 'rgb_to_gray')
    r, g, b = rgb.unbind(dim)
    return (KR * r + KG * g + KB * b).unsqueeze(dim)


def luminance(x: torch.Tensor) -> torch.Tensor:
    """Y (BT.601) of an ``(N, 3, H, W)`` RGB batch; a 1-channel batch is
    returned unchanged (a grey image is its own Y)."""
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError('luminance: expected an (N, 1, H, W) or (N, 3, H, '
                         f'W) batch, got {tuple(x.shape)}')
    return x if x.shape[1] == 1 else rgb_to_gray(x)


def recolor_pillow(luma: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Put an 8-bit luminance into an 8-bit RGB image's chroma, by Pillow.

    What scripts that recombine with ``PIL.Image.merge('YCbCr', (fused,
    Cb, Cr)).convert('RGB')`` write: Pillow's own 8-bit RGB -> YCbCr and
    its fixed-point YCbCr -> RGB (coarser than BT.601: gains off by up to
    0.4 %, truncating; up to ~4 grey levels from :func:`ycbcr_to_rgb` on
    saturated colours).

    Args:
        luma (np.ndarray): ``(H, W)`` uint8 fused luminance.
        rgb (np.ndarray): ``(H, W, 3)`` uint8 RGB image giving the chroma.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.
    """
    from PIL import Image
    if luma.shape != rgb.shape[:2] or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'recolor_pillow: luminance {luma.shape} and RGB '
                         f'{rgb.shape} do not match')
    _, cb, cr = Image.fromarray(np.ascontiguousarray(rgb, np.uint8),
                                'RGB').convert('YCbCr').split()
    fused = Image.fromarray(np.ascontiguousarray(luma, np.uint8), 'L')
    return np.asarray(Image.merge('YCbCr', (fused, cb, cr)).convert('RGB'))
