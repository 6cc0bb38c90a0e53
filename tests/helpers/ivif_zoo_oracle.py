"""The numpy ivif_zoo metrics: the test oracle of
:mod:`mmfusenas.evaluation.functional.fusion_ivif_zoo`.

A second, independent implementation of the 21 metrics of IVIF_ZOO's
evaluator (github.com/RollingPlain/IVIF_ZOO, ``Metric/eval_torch.py``
``evaluation_one``) with its conventions, in float64 numpy / OpenCV, one
image at a time: the package's implementation before it became batched
torch. Not used by the package.
"""
import math
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from mmfusenas.evaluation.functional._utils import (ArrayLike,
                                                    check_same_shape,
                                                    to_gray2d)
from mmfusenas.evaluation.fusion_presets import (  # noqa: F401
    IVIF_ZOO_METRICS, pil_gray)

__all__ = [
    'IVIF_ZOO_METRICS', 'pil_gray', 'ivz_entropy', 'ivz_cross_entropy',
    'ivz_nmi', 'ivz_qncie', 'ivz_tsallis_entropy', 'ivz_edge_intensity',
    'ivz_qy', 'ivz_qcb', 'ivz_mi', 'ivz_spatial_frequency',
    'ivz_average_gradient', 'ivz_standard_deviation', 'ivz_cc', 'ivz_scd',
    'ivz_vif', 'ivz_mse', 'ivz_psnr', 'ivz_qabf', 'ivz_nabf', 'ivz_ssim',
    'ivz_ms_ssim', 'compute_ivif_zoo_metrics'
]

def _f64(*imgs: ArrayLike) -> Tuple[np.ndarray, ...]:
    out = tuple(to_gray2d(x).astype(np.float64) for x in imgs)
    if len(out) == 3:
        check_same_shape(a=out[0], b=out[1], f=out[2])
    return out


def _levels(x: np.ndarray) -> np.ndarray:
    """Integer levels 0..255 of an 8-bit-scale image (values are rounded
    and clipped, as 8-bit files hold them)."""
    return np.clip(np.rint(x), 0, 255).astype(np.int64)


def _hist(x: np.ndarray) -> np.ndarray:
    h = np.bincount(_levels(x).ravel(), minlength=256).astype(np.float64)
    return h / h.sum()


def _shannon(p: np.ndarray, eps: float) -> float:
    return float(-np.sum(p * np.log2(p + eps)))


def ivz_entropy(f: ArrayLike) -> float:
    """EN: ``-sum p log2(p + 1e-7)`` over 256 levels."""
    (f, ) = _f64(f)
    return _shannon(_hist(f), 1e-7)


def ivz_tsallis_entropy(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """TE at ``q = 1``: ``H(A) + H(B) - H(F)``, ``log2(p + 1e-10)``."""
    a, b, f = _f64(a, b, f)
    return sum(_shannon(_hist(x), 1e-10) * s
               for x, s in ((a, 1), (b, 1), (f, -1)))


def ivz_cross_entropy(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """CE, in float32 with torch's ``sigmoid`` and ``binary_cross_entropy``
    (see the module docstring: the value depends on float32 rounding)."""
    import torch
    import torch.nn.functional as F
    a, b, f = (np.asarray(to_gray2d(x), np.float32) for x in (a, b, f))
    check_same_shape(a=a, b=b, f=f)
    a, b, f = (torch.from_numpy(x) for x in (a, b, f))
    eps = 1e-7
    with torch.no_grad():
        fp = torch.sigmoid(f).clamp(eps, 1.0 - eps)
        t = ((torch.sigmoid(a) + torch.sigmoid(b)) / 2).clamp(eps, 1.0 - eps)
        return float(F.binary_cross_entropy(fp, t))


def _joint_mi(x: np.ndarray, f: np.ndarray) -> float:
    joint = np.bincount((_levels(x) * 256 + _levels(f)).ravel(),
                        minlength=256 * 256).astype(np.float64)
    joint /= joint.sum()
    px = joint.reshape(256, 256).sum(1)
    pf = joint.reshape(256, 256).sum(0)

    def h(p):
        p = p[p > 0]
        return -float(np.sum(p * np.log2(p)))

    return h(px) + h(pf) - h(joint)


def ivz_mi(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """MI: ``MI(A, F) + MI(B, F)``, base 2, 256 levels."""
    a, b, f = _f64(a, b, f)
    return _joint_mi(a, f) + _joint_mi(b, f)


def ivz_nmi(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """NMI: ``2 (MI(A, F) + MI(B, F)) / (H(A) + H(B) + 1e-10)``."""
    a, b, f = _f64(a, b, f)
    mi = _joint_mi(a, f) + _joint_mi(b, f)
    ha = _shannon(_hist(a), 1e-10)
    hb = _shannon(_hist(b), 1e-10)
    return 2 * mi / (ha + hb + 1e-10)


def _pearson(x: np.ndarray, y: np.ndarray, eps: float = 0.0) -> float:
    x = x - x.mean()
    y = y - y.mean()
    return float(np.sum(x * y) / (math.sqrt(np.sum(x * x) * np.sum(y * y))
                                  + eps))


def ivz_qncie(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """QNCIE: ``1 + sum (r_i / 3) log_256(r_i / 3)`` over the eigenvalues
    ``r_i`` of the correlation matrix of the min-max normalised images;
    NaN when an image is constant (its normalisation and correlations are
    undefined; IVIF_ZOO's ``eig`` fails on the NaN matrix)."""
    imgs = []
    for x in _f64(a, b, f):
        lo, hi = x.min(), x.max()
        if lo == hi:
            return math.nan
        imgs.append((x - lo) / (hi - lo))
    a, b, f = imgs
    ab, af, bf = (_pearson(x, y, 1e-10) for x, y in ((a, b), (a, f),
                                                     (b, f)))
    r = np.linalg.eigvalsh(np.array([[1, ab, af], [ab, 1, bf], [af, bf, 1]]))
    hr = -np.sum(r * np.log2(r / 3) / 3) / math.log2(256)
    return float(1 - hr)


_SOBEL_X = np.array([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])


def _corr2d(x: np.ndarray, kernel: np.ndarray,
            border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Same-size 2-D correlation with the given border (zeros default)."""
    return cv2.filter2D(x, cv2.CV_64F, kernel, borderType=border)


def _sep(x: np.ndarray, kx: np.ndarray, ky: np.ndarray,
         border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Same-size separable correlation: ``ky`` down the rows, ``kx``
    along them."""
    return cv2.sepFilter2D(x, cv2.CV_64F, np.asarray(kx, np.float64),
                           np.asarray(ky, np.float64), borderType=border)


def ivz_edge_intensity(f: ArrayLike) -> float:
    """EI: mean Sobel gradient magnitude, zero padding."""
    (f, ) = _f64(f)
    gx = _corr2d(f, _SOBEL_X)
    gy = _corr2d(f, _SOBEL_X.T)
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))


def ivz_spatial_frequency(f: ArrayLike) -> float:
    """SF: ``sqrt(mean(dR^2) + mean(dC^2))``."""
    (f, ) = _f64(f)
    rf = np.mean(np.diff(f, axis=0)**2)
    cf = np.mean(np.diff(f, axis=1)**2)
    return float(math.sqrt(rf + cf))


def ivz_standard_deviation(f: ArrayLike) -> float:
    """SD: population standard deviation."""
    (f, ) = _f64(f)
    return float(np.sqrt(np.mean((f - f.mean())**2)))


def ivz_average_gradient(f: ArrayLike) -> float:
    """AG: ``sum(sqrt((gx^2 + gy^2) / 2)) / (H W)`` with
    ``numpy.gradient``."""
    (f, ) = _f64(f)
    gy, gx = np.gradient(f)
    return float(np.sum(np.sqrt((gx * gx + gy * gy) / 2)) / f.size)


def ivz_cc(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """CC: ``(corr(A, F) + corr(B, F)) / 2``."""
    a, b, f = _f64(a, b, f)
    return (_pearson(a, f) + _pearson(b, f)) / 2


def ivz_scd(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """SCD: ``corr(F - B, A) + corr(F - A, B)``."""
    a, b, f = _f64(a, b, f)
    return _pearson(f - b, a) + _pearson(f - a, b)


def ivz_mse(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """MSE: ``(MSE(A, F) + MSE(B, F)) / 2`` on the ``[0, 1]`` scale."""
    a, b, f = (x / 255.0 for x in _f64(a, b, f))
    return float(0.5 * np.mean((f - a)**2) + 0.5 * np.mean((f - b)**2))


def ivz_psnr(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """PSNR: ``20 log10(255 / sqrt(MSE))`` with :func:`ivz_mse`; ``inf``
    when MSE is 0 (F = A = B), as the other presets' PSNR."""
    mse = ivz_mse(a, b, f)
    return math.inf if mse == 0 else float(
        20 * math.log10(255 / math.sqrt(mse)))


# ----------------------------------------------------------------------
# VIF
# ----------------------------------------------------------------------
def _vif_window(n: int) -> np.ndarray:
    """IVIF_ZOO's 1-D factor of its ``n x n`` Gaussian: sampled at
    ``linspace(-(n + 1) / 2, (n - 1) / 2, n)``, ``sigma = n / 5``,
    normalised (the 2-D window is its outer product, normalised)."""
    x = np.linspace(-(n + 1) // 2, n // 2, n)
    g = np.exp(-x * x / (2 * (n / 5)**2))
    return g / g.sum()


def _vif_one(ref: np.ndarray, dist: np.ndarray) -> float:
    sigma_nsq, tiny = 2.0, 1e-10
    num = den = 0.0
    for scale in range(1, 5):
        n = 2**(5 - scale) + 1
        w = _vif_window(n)
        if scale > 1:
            ref = _sep(ref, w, w)[::2, ::2]
            dist = _sep(dist, w, w)[::2, ::2]
        mu1, mu2 = _sep(ref, w, w), _sep(dist, w, w)
        s1 = np.maximum(_sep(ref * ref, w, w) - mu1 * mu1, 0)
        s2 = np.maximum(_sep(dist * dist, w, w) - mu2 * mu2, 0)
        s12 = _sep(ref * dist, w, w) - mu1 * mu2
        g = s12 / (s1 + tiny)
        sv = s2 - g * s12
        low1 = s1 < tiny
        g[low1] = 0
        sv[low1] = s2[low1]
        s1[low1] = 0
        low2 = s2 < tiny
        g[low2] = 0
        sv[low2] = 0
        neg = g < 0
        sv[neg] = s2[neg]
        g[neg] = 0
        sv[sv <= tiny] = tiny
        num += np.sum(np.log10(1 + g * g * s1 / (sv + sigma_nsq)))
        den += np.sum(np.log10(1 + s1 / sigma_nsq))
    return float(num / den)


def ivz_vif(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """VIF: ``VIF(A, F) + VIF(B, F)`` (see the module docstring)."""
    a, b, f = _f64(a, b, f)
    return _vif_one(a, f) + _vif_one(b, f)


# ----------------------------------------------------------------------
# Qabf / Nabf
# ----------------------------------------------------------------------
def _qabf_edges(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    sx = _corr2d(x, _SOBEL_X)
    sy = _corr2d(x, -_SOBEL_X.T)  # top row minus bottom row
    g = np.sqrt(sx * sx + sy * sy)
    with np.errstate(divide='ignore', invalid='ignore'):
        ang = np.where(sx == 0, np.pi / 2, np.arctan(sy / np.where(
            sx == 0, 1, sx)))
    return g, ang


def _qabf_q(ga, aa, gf, af) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        ratio = np.where(ga > gf, gf / ga, np.where(ga == gf, gf, ga / gf))
    align = 1 - np.abs(aa - af) / (np.pi / 2)
    qg = 0.9994 / (1 + np.exp(-15 * (ratio - 0.5)))
    qa = 0.9879 / (1 + np.exp(-22 * (align - 0.8)))
    return qg * qa


def ivz_qabf(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """Qabf (see the module docstring)."""
    a, b, f = _f64(a, b, f)
    ga, aa = _qabf_edges(a)
    gb, ab = _qabf_edges(b)
    gf, af = _qabf_edges(f)
    num = np.sum(_qabf_q(ga, aa, gf, af) * ga + _qabf_q(gb, ab, gf, af) * gb)
    return float(num / np.sum(ga + gb))


def _nabf_edges(x: np.ndarray):
    # convolution with the /8 Sobel pair on mirror-padded images:
    # gv = (left - right) / 8, gh = (top - bottom) / 8
    gv = _corr2d(x, -_SOBEL_X / 8, cv2.BORDER_REFLECT_101)
    gh = _corr2d(x, -_SOBEL_X.T / 8, cv2.BORDER_REFLECT_101)
    with np.errstate(divide='ignore', invalid='ignore'):
        ang = np.where((gv == 0) & (gh == 0), 0, np.arctan(gv / gh))
    return np.sqrt(gh * gh + gv * gv), ang


def _nabf_q(gx, ax, gf, af) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        ratio = np.where((gx == 0) | (gf == 0), 0,
                         np.where(gx > gf, gf / gx, gx / gf))
    align = np.abs(np.abs(ax - af) - np.pi / 2) * 2 / np.pi
    qg = 0.9999 / (1 + np.exp(-19 * (ratio - 0.5)))
    qa = 0.9995 / (1 + np.exp(-22 * (align - 0.5)))
    return np.sqrt(qg * qa)


def ivz_nabf(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """Nabf (see the module docstring)."""
    a, b, f = _f64(a, b, f)
    ga, aa = _nabf_edges(a)
    gb, ab = _nabf_edges(b)
    gf, af = _nabf_edges(f)
    qa = _nabf_q(ga, aa, gf, af)
    qb = _nabf_q(gb, ab, gf, af)
    wa = np.where(ga >= 2, ga**1.5, 0)
    wb = np.where(gb >= 2, gb**1.5, 0)
    art = (gf > ga) & (gf > gb)
    return float(np.sum(art * ((1 - qa) * wa + (1 - qb) * wb)) /
                 np.sum(wa + wb))


# ----------------------------------------------------------------------
# SSIM / MS-SSIM
# ----------------------------------------------------------------------
_SSIM_WIN = np.exp(-(np.arange(11) - 5.0)**2 / (2 * 1.5**2))
_SSIM_WIN /= _SSIM_WIN.sum()
_MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _ssim_cs(x: np.ndarray, y: np.ndarray) -> Tuple[float, float]:
    """Mean SSIM and contrast-structure terms, valid 11 x 11 window, the
    constants of ``data_range = 1`` on 0-255 images."""
    c1, c2 = 0.01**2, 0.03**2
    r = 5

    def blur(z):
        return _sep(z, _SSIM_WIN, _SSIM_WIN)[r:-r, r:-r]

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return float(np.mean(lum * cs)), float(np.mean(cs))


def ivz_ssim(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """SSIM: ``SSIM(A, F) + SSIM(B, F)``."""
    a, b, f = _f64(a, b, f)
    return _ssim_cs(a, f)[0] + _ssim_cs(b, f)[0]


def _pool2(x: np.ndarray) -> np.ndarray:
    """2 x 2 average pooling, stride 2, one zero row / column on both
    sides of an odd dimension (counted in the mean)."""
    ph, pw = x.shape[0] % 2, x.shape[1] % 2
    x = np.pad(x, ((ph, ph), (pw, pw)))
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    x = x[:h, :w]
    return (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] +
            x[1::2, 1::2]) / 4


def _ms_ssim_one(x: np.ndarray, y: np.ndarray) -> float:
    if min(x.shape) <= 160:
        raise ValueError(f'MS_SSIM (ivif_zoo) needs images with both sides '
                         f'above 160 pixels (4 down-samplings of an 11 x 11 '
                         f'window), got {x.shape}')
    value = 1.0
    for level, weight in enumerate(_MS_WEIGHTS):
        s, cs = _ssim_cs(x, y)
        if level < len(_MS_WEIGHTS) - 1:
            value *= max(cs, 0.0)**weight
            x, y = _pool2(x), _pool2(y)
        else:
            value *= max(s, 0.0)**weight
    return value


def ivz_ms_ssim(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """MS_SSIM: ``MS-SSIM(A, F) + MS-SSIM(B, F)``."""
    a, b, f = _f64(a, b, f)
    return _ms_ssim_one(a, f) + _ms_ssim_one(b, f)


# ----------------------------------------------------------------------
# Qy / Qcb
# ----------------------------------------------------------------------
_QY_G = np.exp(-(np.arange(7) - 3.0)**2 / (2 * 1.5**2))
_QY_G /= _QY_G.sum()


def _qy_ssim(x, y, window: str):
    """SSIM map and the two local variances with Qy's window."""
    ky = np.ones(7) if window == 'ivif_zoo' else _QY_G

    def blur(z):
        return _sep(z, _QY_G, ky)

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    smap = ((2 * mx * my + c1) * (2 * sxy + c2)) / (
        (mx * mx + my * my + c1) * (sxx + syy + c2))
    return smap, sxx, syy


def ivz_qy(a: ArrayLike, b: ArrayLike, f: ArrayLike,
           window: str = 'ivif_zoo') -> float:
    """Qy (Yang et al. 2008).

    Args:
        window (str): ``'ivif_zoo'`` (the 7 x 7 window whose rows are the
            normalised 1-D Gaussian) or ``'gaussian'`` (the paper's 2-D
            Gaussian, ``sigma = 1.5``).
    """
    if window not in ('ivif_zoo', 'gaussian'):
        raise ValueError(f"window must be 'ivif_zoo' or 'gaussian', got "
                         f'{window!r}')
    a, b, f = _f64(a, b, f)
    sab, va, vb = _qy_ssim(a, b, window)
    saf = _qy_ssim(a, f, window)[0]
    sbf = _qy_ssim(b, f, window)[0]
    lam = va / (va + vb + 1e-10)
    high = sab >= 0.75
    q = np.where(high, lam * saf + (1 - lam) * sbf, np.maximum(saf, sbf))
    return float(np.mean(q))


def _csf(shape: Tuple[int, int]) -> np.ndarray:
    h, w = shape
    u = np.fft.fftfreq(h)[:, None] * (h / 30)
    v = np.fft.fftfreq(w)[None, :] * (w / 30)
    r = np.sqrt(u * u + v * v)
    return np.exp(-(r / 15.3870)**2) - 0.7622 * np.exp(-(r / 1.3456)**2)


def _contrast(x: np.ndarray) -> np.ndarray:
    t = np.arange(-15, 16, dtype=np.float64)
    out = []
    for sigma in (2.0, 4.0):
        g = np.exp(-t * t / (2 * sigma**2))
        out.append(_sep(x, g, g) / (2 * np.pi * sigma**2))
    c = out[0] / (out[1] + 1e-10) - 1
    c = np.abs(c)
    return c**3 / (c**2 + 1e-4)


def ivz_qcb(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    """Qcb (Chen and Blum 2009), see the module docstring."""
    imgs = []
    for x in _f64(a, b, f):
        x = (x - x.min()) / (x.max() - x.min())
        imgs.append(np.fft.ifft2(np.fft.fft2(x) * _csf(x.shape)).real)
    ca, cb, cf = (_contrast(x) for x in imgs)
    with np.errstate(divide='ignore', invalid='ignore'):
        qa = np.where(ca < cf, ca / cf, cf / ca)
        qb = np.where(cb < cf, cb / cf, cf / cb)
    den = ca * ca + cb * cb + 1e-10
    return float(np.mean(ca * ca / den * qa + cb * cb / den * qb))


_FUNCTIONS = dict(
    CE=ivz_cross_entropy, NMI=ivz_nmi, QNCIE=ivz_qncie,
    TE=ivz_tsallis_entropy, EI=lambda a, b, f: ivz_edge_intensity(f),
    Qy=ivz_qy, Qcb=ivz_qcb, EN=lambda a, b, f: ivz_entropy(f), MI=ivz_mi,
    SF=lambda a, b, f: ivz_spatial_frequency(f),
    AG=lambda a, b, f: ivz_average_gradient(f),
    SD=lambda a, b, f: ivz_standard_deviation(f), CC=ivz_cc, SCD=ivz_scd,
    VIF=ivz_vif, MSE=ivz_mse, PSNR=ivz_psnr, Qabf=ivz_qabf, Nabf=ivz_nabf,
    SSIM=ivz_ssim, MS_SSIM=ivz_ms_ssim)


def compute_ivif_zoo_metrics(a: ArrayLike,
                             b: ArrayLike,
                             f: ArrayLike,
                             metrics: Optional[Tuple[str, ...]] = None
                             ) -> Dict[str, float]:
    """The 21 metrics (or ``metrics``) of one pair, IVIF_ZOO's order."""
    names = IVIF_ZOO_METRICS if metrics is None else tuple(metrics)
    bad = [m for m in names if m not in _FUNCTIONS]
    if bad:
        raise KeyError(f'unknown IVIF_ZOO metric(s) {bad}; valid: '
                       f'{" ".join(IVIF_ZOO_METRICS)}')
    return {m: float(_FUNCTIONS[m](a, b, f)) for m in names}
