r"""Feature mutual information (FMI), vectorised Fast-FMI.

Haghighat, Aghagolzadeh & Seyedarabi, "A non-reference image fusion metric
based on mutual information of image features", CEE 2011, in the Fast-FMI
form (Haghighat & Razian, AICT 2014) of the widely used ``fmi.m`` /
``analysis_fmi.m``.

For every ``w x w`` window (default 3) of the feature maps of a source
:math:`X` and the fused image :math:`F`:

1. if the two windows are identical, :math:`FMI_{XF}=1`;
2. each window is min-max normalised (a flat window becomes all ones) and
   divided by its sum, giving marginal "pdfs" :math:`x, f` over the
   :math:`l=w^2` positions in column-major order, and their CDFs
   :math:`X, F`;
3. :math:`c` is the Pearson correlation of :math:`x` and :math:`f`;
   :math:`\sigma_x, \sigma_f` the standard deviations of the position index
   :math:`1..l` under :math:`x, f`;
4. the joint pdf is Nelsen's mixture with the Fréchet bound copula
   (:math:`M(u,v)=\min(u,v)` for :math:`c\ge 0`,
   :math:`W(u,v)=\max(u+v-1,0)` for :math:`c<0`):
   :math:`p_{ij} = k\,\Delta C_{ij} + (1-k) f_i x_j`, with
   :math:`k = c\,\sigma_f\sigma_x / \sum_{ij}(C(F_i,X_j)-F_iX_j)`
   (0 when :math:`c=0` or a :math:`\sigma` is 0) and :math:`\Delta C` the
   rectangle mass of :math:`C`;
5. :math:`MI = H(x)+H(f)-H(p)` in bits (:math:`-p\log_2|p|` for the
   occasional negative cell, as MATLAB's ``real``), and
   :math:`FMI_{XF} = 2MI/(H(x)+H(f))` (0 if :math:`MI=0`).

The score is the mean over windows of :math:`(FMI_{AF}+FMI_{BF})/2`.
A quirk of the reference code is kept: when the A-window differs from the
F-window, the F-window is normalised in place before the equality test
against the B-window.

Features: ``'none'`` (pixels), ``'gradient'`` (MATLAB ``gradient(x)``, i.e.
the horizontal derivative only, as in the reference code), ``'edge'``
(MATLAB ``edge(x)``: Sobel with automatic threshold and thinning), ``'dct'``
(orthonormal 2-D DCT-II, ``dct2``) and ``'wavelet'`` (one-level ``dwt2``
with the discrete Meyer filter, mosaic ``[cA cH; cV cD]`` re-ranged to
``[0, 1]``). The wavelet uses the 62-tap ``dmey`` filter of PyWavelets with
symmetric extension; MATLAB's ``dmey`` is a longer (102-tap) approximation of
the same wavelet, so ``FMI_wavelet`` is close to, not bit-identical with,
MATLAB's.

Deviation: Pearson numerators / centred pdf values below ``1e-12`` in
magnitude are treated as exactly zero so that flat windows give a
deterministic :math:`c = 0` (MATLAB's result there depends on round-off).
"""
from typing import Tuple

import cv2
import numpy as np
import scipy.fft

from ._utils import ArrayLike, check_same_shape, to_gray2d

__all__ = ['fmi', 'fmi_features', 'DMEY_DEC_LO']

# first half (indices 0..31) of PyWavelets' 62-tap 'dmey' decomposition
# low-pass filter; the filter is symmetric about index 31 (h[k] = h[62-k]).
_DMEY_HALF = np.array([
    0.0, -1.009999956941423e-12, 8.519459636796214e-09,
    -1.111944952595278e-08, -1.0798819539621958e-08, 6.066975741351135e-08,
    -1.0866516536735883e-07, 8.200680650386481e-08, 1.1783004497663934e-07,
    -5.506340565252278e-07, 1.1307947017916706e-06, -1.489549216497156e-06,
    7.367572885903746e-07, 3.20544191334478e-06, -1.6312699734552807e-05,
    6.554305930575149e-05, -0.0006011502343516092, -0.002704672124643725,
    0.002202534100911002, 0.006045814097323304, -0.006387718318497156,
    -0.011061496392513451, 0.015270015130934803, 0.017423434103729693,
    -0.03213079399021176, -0.024348745906078023, 0.0637390243228016,
    0.030655091960824263, -0.13284520043622938, -0.035087555656258346,
    0.44459300275757724, 0.7445855923188063
])
DMEY_DEC_LO = np.concatenate([_DMEY_HALF, _DMEY_HALF[1:31][::-1]])
assert DMEY_DEC_LO.size == 62


def _dwt_axis(x: np.ndarray, h: np.ndarray, axis: int) -> np.ndarray:
    """MATLAB ``dwt`` along one axis: 'sym' extension, conv, keep 2:2:end."""
    lf = len(h)
    pad = [(0, 0), (0, 0)]
    pad[axis] = (lf - 1, lf - 1)
    y = np.pad(x, pad, mode='symmetric')
    n = x.shape[axis]
    # full convolution restricted to the 'valid' part of the extension
    k = h[::-1].reshape((1, -1) if axis == 1 else (-1, 1))
    z = cv2.filter2D(y, cv2.CV_64F, k, anchor=(0, 0) if axis == 1 else
                     (0, 0), borderType=cv2.BORDER_CONSTANT)
    # filter2D with anchor (0,0) gives z[i] = sum_t k[t] y[i+t], i.e. the
    # 'valid' convolution starting at index 0 of length n + lf - 1
    if axis == 1:
        z = z[:, :n + lf - 1][:, 1::2]
    else:
        z = z[:n + lf - 1, :][1::2, :]
    return z


def _dwt2_dmey(x: np.ndarray) -> np.ndarray:
    lo = DMEY_DEC_LO
    # MATLAB orthfilt / qmf: Hi_D[k] = (-1)^(k+1) Lo_D[L-1-k]
    hi = lo[::-1] * (-1.0)**(np.arange(lo.size) + 1)
    rows_lo, rows_hi = _dwt_axis(x, lo, 1), _dwt_axis(x, hi, 1)
    ca, cv = _dwt_axis(rows_lo, lo, 0), _dwt_axis(rows_lo, hi, 0)
    ch, cd = _dwt_axis(rows_hi, lo, 0), _dwt_axis(rows_hi, hi, 0)
    mosaic = np.block([[ca, ch], [cv, cd]])
    lo_v, hi_v = mosaic.min(), mosaic.max()
    if hi_v == lo_v:
        return np.ones_like(mosaic)
    return (mosaic - lo_v) / (hi_v - lo_v)


def _matlab_edge_sobel(x: np.ndarray) -> np.ndarray:
    """MATLAB ``edge(x)`` (Sobel, automatic threshold, thinning)."""
    op = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float64) / 8
    bx = cv2.filter2D(x, cv2.CV_64F, op.T, borderType=cv2.BORDER_REPLICATE)
    by = cv2.filter2D(x, cv2.CV_64F, op, borderType=cv2.BORDER_REPLICATE)
    b = bx * bx + by * by
    cutoff = 4 * b.mean()
    bx, by = np.abs(bx), np.abs(by)
    left = np.concatenate([b[:, :1], b[:, :-1]], 1)
    right = np.concatenate([b[:, 1:], b[:, -1:]], 1)
    up = np.concatenate([b[:1], b[:-1]], 0)
    down = np.concatenate([b[1:], b[-1:]], 0)
    tol = np.finfo(np.float64).eps * 100
    e = (b > cutoff) & (((bx >= by - tol) & (b >= left) & (b > right)) |
                        ((by >= bx - tol) & (b >= up) & (b > down)))
    return e.astype(np.float64)


def fmi_features(x: np.ndarray, feature: str) -> np.ndarray:
    """Feature map used by :func:`fmi` (see the module docstring)."""
    if feature == 'none':
        return x
    if feature == 'gradient':
        return np.gradient(x, axis=1)
    if feature == 'edge':
        return _matlab_edge_sobel(x)
    if feature == 'dct':
        return scipy.fft.dctn(x, type=2, norm='ortho')
    if feature == 'wavelet':
        return _dwt2_dmey(x)
    raise ValueError(f"FMI feature must be one of 'none', 'gradient', "
                     f"'edge', 'dct', 'wavelet'; got {feature!r}")


def _windows(x: np.ndarray, w: int) -> np.ndarray:
    """``(w*w, P)`` windows, rows in MATLAB column-major window order."""
    h, wd = x.shape
    out = np.empty((w * w, (h - w + 1) * (wd - w + 1)))
    i = 0
    for dc in range(w):
        for dr in range(w):
            out[i] = x[dr:h - w + 1 + dr, dc:wd - w + 1 + dc].ravel()
            i += 1
    return out


def _normalise(win: np.ndarray) -> np.ndarray:
    """Min-max normalise every column; a flat column becomes all ones."""
    lo = win.min(0)
    rng = win.max(0) - lo
    flat = rng == 0
    out = (win - lo) / np.where(flat, 1.0, rng)
    out[:, flat] = 1.0
    return out


def _pdf_stats(norm: np.ndarray) -> Tuple[np.ndarray, ...]:
    pdf = norm / norm.sum(0)
    cdf = np.cumsum(pdf, 0)
    t = pdf - pdf.mean(0)
    t[np.abs(t) < 1e-12] = 0.0
    idx = np.arange(1, pdf.shape[0] + 1, dtype=np.float64)
    e1, e2 = idx @ pdf, (idx * idx) @ pdf
    sd = np.sqrt(np.maximum(e2 - e1 * e1, 0.0))
    ent = -(pdf * np.log2(np.maximum(pdf, 1e-300))).sum(0)
    return pdf, cdf, t, sd, ent


def _fmi_block(xpdf, xcdf, xsd, fpdf, fcdf, fsd, c, positive):
    """Joint entropy of one block of columns sharing the sign of ``c``."""
    F, X = fcdf[:, None, :], xcdf[None, :, :]
    if positive:
        C = np.minimum(F, X)
    else:
        C = np.maximum(F + X - 1.0, 0.0)
    cov = C.sum((0, 1)) - fcdf.sum(0) * xcdf.sum(0)
    sds = fsd * xsd
    with np.errstate(divide='ignore', invalid='ignore'):
        k = c * sds / cov
    k[(sds == 0) | (c == 0) | ~np.isfinite(k)] = 0.0
    # rectangle masses of the copula (C(F_0, .) = C(., X_0) = 0)
    dC = C.copy()
    dC[1:] -= C[:-1]
    dC[:, 1:] -= dC[:, :-1].copy()
    jp = k * dC
    jp += (1 - k) * (fpdf[:, None, :] * xpdf[None, :, :])
    lj = np.log2(np.maximum(np.abs(jp), 1e-300))
    jp *= lj
    return -jp.sum((0, 1))


def _fmi_pairs(xw: np.ndarray, fstats) -> np.ndarray:
    """FMI of window pairs that differ (``fstats`` of the normalised F)."""
    xpdf, xcdf, xt, xsd, xent = _pdf_stats(_normalise(xw))
    fpdf, fcdf, ft, fsd, fent = fstats
    num = (xt * ft).sum(0)
    den = np.sqrt((xt * xt).sum(0) * (ft * ft).sum(0))
    with np.errstate(divide='ignore', invalid='ignore'):
        c = np.where((np.abs(num) < 1e-12) | (den == 0), 0.0, num / den)
    jent = np.empty(xw.shape[1])
    pos = c >= 0
    for positive, r in ((True, np.flatnonzero(pos)),
                        (False, np.flatnonzero(~pos))):
        if r.size:
            jent[r] = _fmi_block(xpdf[:, r], xcdf[:, r], xsd[r], fpdf[:, r],
                                 fcdf[:, r], fsd[r], c[r], positive)
    mi = xent + fent - jent
    with np.errstate(divide='ignore', invalid='ignore'):
        out = 2 * mi / (xent + fent)
    out[mi == 0] = 0.0
    return out


def _fmi_windows(aw: np.ndarray, bw: np.ndarray,
                 fw: np.ndarray) -> np.ndarray:
    """Per-window ``(FMI_AF + FMI_BF) / 2`` for ``(l, P)`` window stacks."""
    fnorm = _normalise(fw)
    fstats = _pdf_stats(fnorm)

    def sub(sel):
        return tuple(s[..., sel] for s in fstats)

    eq_a = (aw == fw).all(0)
    fmi_a = np.ones(fw.shape[1])
    sel = np.flatnonzero(~eq_a)
    if sel.size:
        fmi_a[sel] = _fmi_pairs(aw[:, sel], sub(sel))
    # reference quirk: fSub was normalised in place when aSub ~= fSub
    f_cmp = np.where(eq_a, fw, fnorm)
    eq_b = (bw == f_cmp).all(0)
    fmi_b = np.ones(fw.shape[1])
    sel = np.flatnonzero(~eq_b)
    if sel.size:
        fmi_b[sel] = _fmi_pairs(bw[:, sel], sub(sel))
    return (fmi_a + fmi_b) / 2


def fmi(a: ArrayLike,
        b: ArrayLike,
        f: ArrayLike,
        feature: str = 'none',
        window: int = 3) -> float:
    """Feature mutual information (see the module docstring for the formula).

    Args:
        a, b, f: sources and fused image (any common scale: windows are
            normalised).
        feature: ``'none'`` (pixel), ``'gradient'``, ``'edge'``, ``'dct'``
            or ``'wavelet'``.
        window: sliding-window size ``w`` (odd). Defaults to 3.

    Returns:
        float: mean FMI over windows, in ``[0, 1]`` for typical images.
    """
    a, b, f = (to_gray2d(x, n) for x, n in zip((a, b, f), 'abf'))
    check_same_shape(a=a, b=b, f=f)
    if window < 1 or window % 2 == 0:
        raise ValueError(f'FMI window must be a positive odd int, got '
                         f'{window}')
    fa, fb, ff = (fmi_features(x, feature) for x in (a, b, f))
    if min(ff.shape) < window:
        raise ValueError(f'FMI needs feature maps of at least {window}x'
                         f'{window}, got {ff.shape}')
    # process bands of rows so that the working set stays in cache
    n_rows, n_cols = ff.shape[0] - window + 1, ff.shape[1] - window + 1
    band = max(1, 8192 // n_cols)
    total = 0.0
    for r0 in range(0, n_rows, band):
        r1 = min(r0 + band, n_rows) + window - 1
        total += _fmi_windows(*(_windows(x[r0:r1], window)
                                for x in (fa, fb, ff))).sum()
    return float(total / (n_rows * n_cols))
