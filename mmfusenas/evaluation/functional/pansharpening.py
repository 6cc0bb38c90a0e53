"""Pan-sharpening / multispectral fusion metrics (reference-based).

Images are ``(C, H, W)`` arrays or tensors (any common scale).
"""
import cv2
import numpy as np

from ._utils import ArrayLike, check_same_shape, to_numpy

__all__ = ['sam', 'ergas', 'scc', 'q_index']


def _chw(x, name):
    x = to_numpy(x, name)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f'{name} must be (C, H, W); got {tuple(x.shape)}')
    return x


def _pair(pred, gt):
    p, g = _chw(pred, 'pred'), _chw(gt, 'gt')
    check_same_shape(pred=p, gt=g)
    return p, g


def sam(pred: ArrayLike, gt: ArrayLike) -> float:
    r"""Spectral angle mapper in degrees, mean over pixels:
    :math:`SAM=\overline{\arccos\frac{\langle p, g\rangle}{\|p\|\|g\|}}`
    (pixels where either vector is zero are skipped)."""
    p, g = _pair(pred, gt)
    num = (p * g).sum(0)
    den = np.sqrt((p * p).sum(0) * (g * g).sum(0))
    ok = den > 0
    cos = np.clip(num[ok] / den[ok], -1, 1)
    return float(np.degrees(np.arccos(cos)).mean()) if ok.any() else 0.0


def ergas(pred: ArrayLike, gt: ArrayLike, ratio: float = 4.0) -> float:
    r"""ERGAS: :math:`\frac{100}{r}\sqrt{\frac1C\sum_c
    (RMSE_c/\mu_c)^2}` with :math:`r` the resolution ratio (PAN/MS)."""
    p, g = _pair(pred, gt)
    rmse = np.sqrt(((p - g)**2).mean((1, 2)))
    mu = g.mean((1, 2))
    return float(100.0 / ratio * np.sqrt(np.mean((rmse / mu)**2)))


def scc(pred: ArrayLike, gt: ArrayLike) -> float:
    r"""Spatial correlation coefficient: mean over bands of the Pearson
    correlation of the Laplacian high-pass images (3x3 kernel
    ``[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]``, replicate border)."""
    p, g = _pair(pred, gt)
    k = -np.ones((3, 3))
    k[1, 1] = 8
    vals = []
    for c in range(p.shape[0]):
        hp = cv2.filter2D(p[c], cv2.CV_64F, k,
                          borderType=cv2.BORDER_REPLICATE).ravel()
        hg = cv2.filter2D(g[c], cv2.CV_64F, k,
                          borderType=cv2.BORDER_REPLICATE).ravel()
        hp, hg = hp - hp.mean(), hg - hg.mean()
        den = np.sqrt((hp * hp).sum() * (hg * hg).sum())
        vals.append((hp * hg).sum() / den if den > 0 else 1.0)
    return float(np.mean(vals))


def q_index(pred: ArrayLike, gt: ArrayLike, block: int = 32) -> float:
    r"""Universal image quality index Q (Wang & Bovik 2002), averaged over
    ``block x block`` sliding windows (uniform) and bands:

    .. math:: Q=\frac{4\sigma_{pg}\mu_p\mu_g}
              {(\sigma_p^2+\sigma_g^2)(\mu_p^2+\mu_g^2)}
    """
    p, g = _pair(pred, gt)
    if min(p.shape[1:]) < block:
        raise ValueError(f'Q needs images of at least {block}x{block}')
    r0 = block // 2
    vals = []
    for c in range(p.shape[0]):
        def f(z):
            y = cv2.blur(z, (block, block), borderType=cv2.BORDER_REFLECT)
            return y[r0:y.shape[0] - (block - 1 - r0),
                     r0:y.shape[1] - (block - 1 - r0)]
        x, y = p[c], g[c]
        mx, my = f(x), f(y)
        vx = f(x * x) - mx * mx
        vy = f(y * y) - my * my
        vxy = f(x * y) - mx * my
        num = 4 * vxy * mx * my
        den = (vx + vy) * (mx * mx + my * my)
        q = np.where(den > 0, num / np.where(den > 0, den, 1), 1.0)
        vals.append(q.mean())
    return float(np.mean(vals))
