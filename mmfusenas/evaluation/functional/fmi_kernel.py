r"""Feature mutual information (FMI) as one numba kernel.

Haghighat, Aghagolzadeh & Seyedarabi, CEE 2011, in the Fast-FMI form
(Haghighat & Razian, AICT 2014) of the widely used ``fmi.m`` /
``analysis_fmi.m``, quirks included: each ``w x w`` window (column-major)
of the feature maps (:func:`fmi_features`) of a source and the fused image
is min-max normalised (flat: ones) into pdfs :math:`x, f`, cdfs :math:`X, F`,
with joint pdf :math:`p = k\,\Delta C + (1-k) f x^T`; :math:`C` is the
Fréchet bound :math:`\min(F_i, X_j)` (Pearson :math:`c \ge 0`) or
:math:`\max(F_i + X_j - 1, 0)`, :math:`k = c\,\sigma_f \sigma_x / cov_C`.
:math:`FMI_{XF} = 2 MI / (H(x) + H(f))`, and :func:`fmi` averages
:math:`(FMI_{AF} + FMI_{BF}) / 2` over the windows. A window equal to F's
scores 1; as ``fmi.m`` normalises the F window in place when the A window
differs, the B window is then compared with the normalised one.
"""
import functools
import math

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
    """MATLAB ``dwt`` along one axis: 'sym' extension, conv, keep 2:2:end.

    Kept as the full convolution followed by decimation: FMI normalises every
    3x3 window, so in flat image areas it sees the round-off of these
    coefficients; a polyphase evaluation (half the work) that agrees with
    this one to 1e-15 moved ``FMI_wavelet`` by ~5e-6 relative on a TNO pair.
    """
    lf = len(h)
    pad = [(0, 0), (0, 0)]
    pad[axis] = (lf - 1, lf - 1)
    y = np.pad(x, pad, mode='symmetric')
    n = x.shape[axis]
    # full convolution restricted to the 'valid' part of the extension,
    # z[i] = sum_t k[t] y[i + t] with k = h reversed, summed tap by tap in
    # a fixed order (numpy element-wise arithmetic), so the coefficients do
    # not depend on an OpenCV build's filter2D summation order (OpenCV 5
    # changed it, which moved FMI_wavelet by ~2e-6 relative)
    # (only the kept odd positions i = 1, 3, ... are evaluated)
    k = h[::-1]
    m = n + lf - 1
    y = np.moveaxis(y, axis, 0)
    z = k[0] * y[1:m:2]
    for t in range(1, lf):
        z += k[t] * y[t + 1:t + m:2]
    z = np.moveaxis(z, 0, axis)
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
    mosaic -= lo_v
    mosaic /= hi_v - lo_v
    return mosaic


def _local_max(b: np.ndarray, axis: int) -> np.ndarray:
    """``b >= previous & b > next`` along ``axis`` with replicated ends."""
    if axis == 0:
        return _local_max(b.T, 1).T
    out = np.zeros(b.shape, bool)
    if b.shape[1] > 1:
        mid = out[:, 1:-1]
        np.greater_equal(b[:, 1:-1], b[:, :-2], out=mid)
        mid &= b[:, 1:-1] > b[:, 2:]
        # first column: b >= itself; last column: b > itself is False
        np.greater(b[:, 0], b[:, 1], out=out[:, 0])
    return out


def _matlab_edge_sobel(x: np.ndarray) -> np.ndarray:
    """MATLAB ``edge(x)`` (Sobel, automatic threshold, thinning)."""
    op = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float64) / 8
    bx = cv2.filter2D(x, cv2.CV_64F, op.T, borderType=cv2.BORDER_REPLICATE)
    by = cv2.filter2D(x, cv2.CV_64F, op, borderType=cv2.BORDER_REPLICATE)
    b = bx * bx
    b += by * by
    cutoff = 4 * b.mean()
    np.abs(bx, out=bx)
    np.abs(by, out=by)
    tol = np.finfo(np.float64).eps * 100
    horiz = bx >= by - tol
    horiz &= _local_max(b, 1)
    vert = by >= bx - tol
    vert &= _local_max(b, 0)
    horiz |= vert
    horiz &= b > cutoff
    return horiz.astype(np.float64)


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


@functools.lru_cache(maxsize=None)
def _kernel():
    """``kernel(fa, fb, ff, w, row_sums)``: ``row_sums[r]`` = the sum of
    ``FMI_AF + FMI_BF`` over the windows of window row ``r``, rows on numba's
    threads, each summed in order (the total does not depend on the number
    of threads). Compiled on first use or loaded from numba's cache (the
    helpers are inner functions: dispatchers in a closure defeat the cache).
    """
    try:
        import numba
    except ImportError as e:
        raise ImportError('FMI needs the package numba (pip install numba; '
                          'it is listed in requirements/runtime.txt)') from e

    @numba.njit(cache=True, nogil=True, parallel=True, error_model='numpy')
    def fmi_rows(fa, fb, ff, w, row_sums):
        def same(x, y):
            for i in range(x.size):
                if x[i] != y[i]:
                    return False
            return True

        def normalise(w, out):
            """Min-max normalise ``w`` into ``out`` (flat: all ones)."""
            lo = hi = w[0]
            for v in w:
                lo, hi = min(lo, v), max(hi, v)
            for i in range(w.size):
                out[i] = 1.0 if hi == lo else (w[i] - lo) / (hi - lo)

        def stats(nw, s):
            """Rows of ``s``: pdf, cdf, centred pdf and log2 pdf of the
            normalised window ``nw``; returns (sd of the position, entropy)."""
            l = nw.size
            total, cum = nw.sum(), 0.0
            for i in range(l):
                s[0, i] = nw[i] / total
                cum += s[0, i]
                s[1, i] = cum
            e1 = e2 = ent = 0.0
            for i in range(l):
                p = s[0, i]
                s[2, i] = 0.0 if abs(p - cum / l) < 1e-12 else p - cum / l
                s[3, i] = math.log2(max(p, 1e-300))
                e1 += (i + 1) * p
                e2 += (i + 1) * (i + 1) * p
                ent -= p * s[3, i]
            return math.sqrt(max(e2 - e1 * e1, 0.0)), ent

        def pair_fmi(xs, xsd, xent, fs, fsd, fent):
            """FMI_XF from the :func:`stats` of the source and F windows."""
            l = xs.shape[1]
            num = xtt = ftt = sum_c = 0.0
            for i in range(l):
                num += xs[2, i] * fs[2, i]
                xtt += xs[2, i] * xs[2, i]
                ftt += fs[2, i] * fs[2, i]
            den = math.sqrt(xtt * ftt)
            c = 0.0 if abs(num) < 1e-12 or den == 0 else num / den
            for u in fs[1]:     # cov_C = sum over the grid of C - F X
                for v in xs[1]:
                    sum_c += min(u, v) if c >= 0 else max(u + v - 1.0, 0.0)
            cov = sum_c - fs[1].sum() * xs[1].sum()
            sds = fsd * xsd
            k = 0.0 if c == 0 or sds == 0 or cov == 0 else c * sds / cov
            if k == 0 or not math.isfinite(k):
                return 0.0      # p = f x^T: MI = 0
            a = 1.0 - k
            la = math.log2(max(abs(a), 1e-300))
            # Delta C != 0 only on the 2l-1 cells of the path merging X with
            # g = F (c >= 0) or g = the cdf of the reversed f (c < 0; path
            # row i is row l-1-i of f); a cell's mass is the increment of
            # min(g_i, X_j). With a = 1 - k, H(p) = -a log2|a| + a (H(x) +
            # H(f)) + the path sum of G(p) - G(a f x), G(v) = -v log2|v|
            s1 = s2 = s3 = prev = 0.0   # path sums: p log2|p|, fx log2 fx, fx
            i = j = 0
            for _ in range(2 * l - 1):
                gi = fs[1, i] if c >= 0 else (
                    1.0 - fs[1, l - 2 - i] if i < l - 1 else 1.0)
                e = min(gi, xs[1, j])
                if e != prev:
                    fi = i if c >= 0 else l - 1 - i
                    fx = fs[0, fi] * xs[0, j]
                    p = k * (e - prev) + a * fx
                    s1 += p * math.log2(max(abs(p), 1e-300))
                    s2 += fx * (fs[3, fi] + xs[3, j])
                    s3 += fx
                prev = e
                if j == l - 1 or (i < l - 1 and gi <= xs[1, j]):
                    i += 1
                else:
                    j += 1
            h = xent + fent
            mi = k * h + a * la + s1 - a * (la * s3 + s2)
            return 0.0 if mi == 0 else 2 * mi / h

        l = w * w
        for r in numba.prange(row_sums.size):
            # windows of A, B, F; F and a source normalised; their stats
            raw, fn, xn = np.empty((3, l)), np.empty(l), np.empty(l)
            fs, xs, acc = np.empty((4, l)), np.empty((4, l)), 0.0
            for col in range(ff.shape[1] - w + 1):
                for dc in range(w):     # column-major, as MATLAB's x(:)
                    for dr in range(w):
                        for m, x in enumerate((fa, fb, ff)):
                            raw[m, dc * w + dr] = x[r + dr, col + dc]
                eq_a = same(raw[0], raw[2])
                normalise(raw[2], fn)
                # fmi.m normalised the F window in place if A differs
                eq_b = same(raw[1], raw[2] if eq_a else fn)
                if eq_a and eq_b:       # a window equal to F scores 1
                    acc += 2.0
                    continue
                fsd, fent = stats(fn, fs)
                for src, eq in ((0, eq_a), (1, eq_b)):
                    if eq:
                        acc += 1.0
                    else:
                        normalise(raw[src], xn)
                        xsd, xent = stats(xn, xs)
                        acc += pair_fmi(xs, xsd, xent, fs, fsd, fent)
            row_sums[r] = acc

    return fmi_rows


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
        float: mean FMI over windows, in ``[0, 1]`` for typical images (the
        same for any number of numba threads).
    """
    a, b, f = (to_gray2d(x, n) for x, n in zip((a, b, f), 'abf'))
    check_same_shape(a=a, b=b, f=f)
    if window < 1 or window % 2 == 0:
        raise ValueError(f'FMI window must be a positive odd int, got '
                         f'{window}')
    fa, fb, ff = (np.ascontiguousarray(fmi_features(x, feature), np.float64)
                  for x in (a, b, f))
    if min(ff.shape) < window:
        raise ValueError(f'FMI needs feature maps of at least {window}x'
                         f'{window}, got {ff.shape}')
    row_sums = np.empty(ff.shape[0] - window + 1)
    _kernel()(fa, fb, ff, window, row_sums)
    n_windows = row_sums.size * (ff.shape[1] - window + 1)
    return float(row_sums.sum() / 2 / n_windows)
