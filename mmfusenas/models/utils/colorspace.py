"""Full-range ITU-R BT.601 (JPEG) RGB <-> YCbCr in ``[0, 1]`` with its exact
inverse, and Pillow's 8-bit recolouring; fusion methods fuse the luminance
and re-attach the colour source's chroma."""
import numpy as np
import torch

KR, KB = 0.299, 0.114
KG = 1.0 - KR - KB


def rgb_to_ycbcr(rgb: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """RGB in ``[0, 1]`` to Y, Cb, Cr (chroma centred at 0.5) along ``dim``
    (default ``(..., 3, H, W)``); OpenCV's ``COLOR_RGB2YCrCb`` up to its
    fixed point and channel order."""
    if rgb.shape[dim] != 3:
        raise ValueError(f'expects 3 channels along dim {dim}, got a tensor '
                         f'of shape {tuple(rgb.shape)}')
    r, g, b = rgb.unbind(dim)
    y = KR * r + KG * g + KB * b
    return torch.stack([y, (b - y) / (2 * (1 - KB)) + 0.5,
                        (r - y) / (2 * (1 - KR)) + 0.5], dim)


def ycbcr_to_rgb(ycbcr: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Exact inverse of :func:`rgb_to_ycbcr` (no clamping)."""
    if ycbcr.shape[dim] != 3:
        raise ValueError(f'expects 3 channels along dim {dim}, got a tensor '
                         f'of shape {tuple(ycbcr.shape)}')
    y, cb, cr = ycbcr.unbind(dim)
    r = y + 2 * (1 - KR) * (cr - 0.5)
    b = y + 2 * (1 - KB) * (cb - 0.5)
    return torch.stack([r, (y - KR * r - KB * b) / KG, b], dim)


def luminance(x: torch.Tensor) -> torch.Tensor:
    """Y of an ``(N, 3, H, W)`` RGB batch; an ``(N, 1, H, W)`` batch is
    returned unchanged."""
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError('luminance: expected an (N, 1, H, W) or (N, 3, H, '
                         f'W) batch, got {tuple(x.shape)}')
    return x if x.shape[1] == 1 else rgb_to_ycbcr(x)[:, :1]


def recolor_pillow(luma: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """``(H, W)`` uint8 luminance merged with the chroma of an ``(H, W, 3)``
    uint8 RGB image by Pillow (``Image.merge('YCbCr', ...)``, as the
    original scripts recombine; up to ~4 grey levels from
    :func:`ycbcr_to_rgb`)."""
    from PIL import Image
    if luma.shape != rgb.shape[:2] or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'recolor_pillow: luminance {luma.shape} and RGB '
                         f'{rgb.shape} do not match')
    _, cb, cr = Image.fromarray(np.ascontiguousarray(rgb, np.uint8),
                                'RGB').convert('YCbCr').split()
    fused = Image.fromarray(np.ascontiguousarray(luma, np.uint8), 'L')
    return np.asarray(Image.merge('YCbCr', (fused, cb, cr)).convert('RGB'))
