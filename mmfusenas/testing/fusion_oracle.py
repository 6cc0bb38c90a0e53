"""The numpy fusion metrics: the test oracle of
:mod:`mmfusenas.evaluation.functional.fusion`.

A second, independent implementation of the cddfuse / tang / vifb metrics
(float64 numpy and OpenCV, one image at a time), the evaluator's numpy path
before the metrics became one batched torch implementation. The torch
metrics are tested against it on real pairs (``tests/test_evaluation``)
and ``benchmarks/bench_fusion_metrics.py`` compares with it; no other module
of the package uses it.
"""
import math
from typing import Callable, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfusenas.evaluation.functional._utils import (ArrayLike,
                                                    check_same_shape,
                                                    to_gray2d)
from mmfusenas.evaluation.fusion_presets import PRESET_BINDINGS


# --------------------------------------------------------------------------
# filtering helpers
# --------------------------------------------------------------------------
def _filter(x: np.ndarray, kernel: np.ndarray, border: int) -> np.ndarray:
    """2-D correlation (``cv2.filter2D``), same size, given border rule."""
    return cv2.filter2D(x, cv2.CV_64F, kernel, borderType=border)


def _sep_valid(x: np.ndarray,
               k1d: np.ndarray,
               y: Optional[np.ndarray] = None,
               square: bool = False,
               step: int = 1) -> np.ndarray:
    """Separable correlation of ``x`` (``x * x`` with ``square``, ``x * y``
    with ``y``) with ``outer(k1d, k1d)``, ``'valid'`` region, every
    ``step``-th row and column (OpenCV's ``sepFilter2D``)."""
    z = x * y if y is not None else (x * x if square else x)
    r = len(k1d) // 2
    out = cv2.sepFilter2D(z, cv2.CV_64F, k1d, k1d,
                          borderType=cv2.BORDER_REFLECT_101)
    out = out[r:out.shape[0] - r, r:out.shape[1] - r]
    return out if step == 1 else out[::step, ::step]


def _sep_full(x: np.ndarray, k1d: np.ndarray) -> np.ndarray:
    """OpenCV's full (C-contiguous) separable correlation, whose ``[r:-r,
    r:-r]`` (``r = len(k1d) // 2``) is the 'valid' part (SSIM's Gaussian
    window; its kernel reads the valid part at that offset)."""
    return cv2.sepFilter2D(x, cv2.CV_64F, k1d, k1d,
                           borderType=cv2.BORDER_REFLECT_101)


def _gauss1d(n: int, sigma: float) -> np.ndarray:
    """1-D factor of MATLAB's ``fspecial('gaussian', n, sigma)``."""
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    g = np.exp(-x * x / (2.0 * sigma * sigma))
    return g / g.sum()


def _prep(*arrays: ArrayLike, names: Sequence[str]) -> Tuple[np.ndarray, ...]:
    out = tuple(to_gray2d(x, n) for x, n in zip(arrays, names))
    check_same_shape(**dict(zip(names, out)))
    return out


def _levels(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.int64)


def _hist(levels: np.ndarray) -> np.ndarray:
    return np.bincount(levels.ravel(), minlength=256)


def _sumsq(c: np.ndarray) -> float:
    return float((c * c).sum())


def _cached(cache, method, x, make):
    return make(x)


# --------------------------------------------------------------------------
# no-reference statistics of the fused image
# --------------------------------------------------------------------------
def entropy(img: ArrayLike,
            base: float = 2.0,
            cache: Optional[object] = None) -> float:
    r"""Shannon entropy (EN) of the 256-bin gray-level histogram.

    .. math:: EN = -\sum_{l=0}^{255} p_l \log_2 p_l

    with :math:`p_l` the fraction of pixels whose rounded value is ``l``.
    All three presets use bits (``base=2``).

    Args:
        img: gray image on ``[0, 255]``.
        base: logarithm base. Defaults to 2.
        cache: shared intermediates of the pair (see
            :class:`FusionPairCache`).
    """
    x = to_gray2d(img, 'img')
    counts = _cached(cache, 'hist', x, lambda x: _hist(_levels(x)))
    p = counts / x.size
    p = p[p > 0]
    # ``0.0 - x``: a constant image gives 0.0, not -0.0
    return float(0.0 - (p * np.log(p)).sum() / math.log(base))


def standard_deviation(img: ArrayLike,
                       mode: str = 'population',
                       cache: Optional[object] = None) -> float:
    r"""Standard deviation (SD) of the fused image.

    ``mode='population'`` (cddfuse, vifb):
    :math:`SD = \sqrt{\frac{1}{MN}\sum (F - \mu)^2}`.

    ``mode='matlab_uint8'`` (tang) reproduces ``SD_evaluation.m`` called on
    the ``uint8`` image, where MATLAB's integer arithmetic rounds and
    saturates: :math:`SD = \sqrt{\frac{1}{MN}\sum
    \min(255, [\max(0, [F - \mu])]^2)}` with :math:`[\cdot]` rounding to
    nearest (half away from zero). Only pixels above the mean contribute and
    each term is capped at 255, so the value is at most :math:`\sqrt{255}`.

    Args:
        img: gray image on ``[0, 255]``.
        mode: ``'population'`` or ``'matlab_uint8'``.
        cache: shared intermediates of the pair (see
            :class:`FusionPairCache`).
    """
    x = to_gray2d(img, 'img')
    if mode == 'population':
        # mean((x - mean)^2) = sum of squares / MN (numpy's mean is that sum
        # divided by the count)
        ss = _cached(cache, 'sumsq', x, lambda x: _sumsq(x - x.mean()))
        return float(np.sqrt(ss / x.size))
    if mode == 'matlab_uint8':
        d = _matlab_round(x - x.mean())
        d = np.clip(d, 0, 255)
        d2 = np.minimum(d * d, 255)
        return float(np.sqrt(d2.sum() / x.size))
    raise ValueError(f"SD mode must be 'population' or 'matlab_uint8', "
                     f'got {mode!r}')


def _matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round``: half away from zero."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def spatial_frequency(img: ArrayLike, divisor: str = 'mean') -> float:
    r"""Spatial frequency (SF).

    With :math:`RF^2` / :math:`CF^2` the squared horizontal / vertical first
    differences,

    * ``divisor='mean'`` (cddfuse, tang): each averaged over its own count,
      :math:`SF = \sqrt{\overline{(F_{i,j}-F_{i,j-1})^2} +
      \overline{(F_{i,j}-F_{i-1,j})^2}}`;
    * ``divisor='mn'`` (vifb): both sums divided by :math:`MN`.

    Tang computes it on the ``[0, 1]`` image, i.e. his SF is this value on
    the 8-bit image divided by 255 (the preset handles that scale).
    """
    x = to_gray2d(img, 'img')
    dx2 = np.diff(x, axis=1)**2
    dy2 = np.diff(x, axis=0)**2
    if divisor == 'mean':
        return float(np.sqrt(dx2.mean() + dy2.mean()))
    if divisor == 'mn':
        return float(np.sqrt((dx2.sum() + dy2.sum()) / x.size))
    raise ValueError(f"SF divisor must be 'mean' or 'mn', got {divisor!r}")


def average_gradient(img: ArrayLike, divisor: str = 'mn') -> float:
    r"""Average gradient (AG).

    :math:`G_x, G_y` are MATLAB/NumPy ``gradient``: central differences
    :math:`(F_{j+1}-F_{j-1})/2` inside, one-sided differences at the border.

    .. math:: AG = \frac{1}{D}\sum_{i,j}\sqrt{(G_x^2 + G_y^2)/2}

    with :math:`D = MN` (``divisor='mn'``, cddfuse) or
    :math:`D=(M-1)(N-1)` (``divisor='m1n1'``, tang and vifb).
    """
    x = to_gray2d(img, 'img')
    if min(x.shape) < 2:
        raise ValueError(f'AG needs an image of at least 2x2, got {x.shape}')
    # np.gradient(x) (same arithmetic: (x[j+1] - x[j-1]) / 2 inside,
    # x[1] - x[0] / x[-1] - x[-2] at the borders), without its generic
    # overhead, and sqrt((gx^2 + gy^2) / 2) in place
    gx = np.empty_like(x)
    np.subtract(x[:, 2:], x[:, :-2], out=gx[:, 1:-1])
    gx[:, 1:-1] /= 2.0
    np.subtract(x[:, 1], x[:, 0], out=gx[:, 0])
    np.subtract(x[:, -1], x[:, -2], out=gx[:, -1])
    gy = np.empty_like(x)
    np.subtract(x[2:], x[:-2], out=gy[1:-1])
    gy[1:-1] /= 2.0
    np.subtract(x[1], x[0], out=gy[0])
    np.subtract(x[-1], x[-2], out=gy[-1])
    gx *= gx
    gy *= gy
    gx += gy
    gx /= 2.0
    s = np.sqrt(gx, out=gx).sum()
    h, w = x.shape
    if divisor == 'mn':
        return float(s / (h * w))
    if divisor == 'm1n1':
        return float(s / ((h - 1) * (w - 1)))
    raise ValueError(f"AG divisor must be 'mn' or 'm1n1', got {divisor!r}")


# --------------------------------------------------------------------------
# information-theoretic
# --------------------------------------------------------------------------
def _mi_levels(x: np.ndarray, quantize: str,
               cache: Optional[object] = None) -> np.ndarray:
    if quantize == 'round':
        return _cached(cache, 'levels', x, _levels)
    if quantize == 'minmax':  # VIFB: min-max to [0,1], int16(x*255)
        lo, hi = x.min(), x.max()
        y = (x - lo) / (hi - lo) if hi != lo else np.zeros_like(x)
        return _matlab_round(y * 255).astype(np.int64)
    raise ValueError(f"MI quantize must be 'round' or 'minmax', "
                     f'got {quantize!r}')


def mutual_information(x: ArrayLike,
                       y: ArrayLike,
                       base: float = math.e,
                       quantize: str = 'round',
                       cache: Optional[object] = None) -> float:
    r"""Mutual information of two images from a 256x256 joint histogram.

    .. math:: MI(X,Y) = \sum_{u,v} p(u,v)\log\frac{p(u,v)}{p(u)p(v)}

    ``quantize='round'`` bins the rounded 8-bit values (for integer images
    identical to scikit-learn's ``mutual_info_score`` used by cddfuse);
    ``'minmax'`` first stretches each image to ``[0, 255]`` (vifb).

    Args:
        base: ``math.e`` for nats (cddfuse, vifb), 2 for bits (tang).
        cache: shared intermediates of the pair (see
            :class:`FusionPairCache`).
    """
    x, y = _prep(x, y, names=('x', 'y'))
    qx, qy = _mi_levels(x, quantize, cache), _mi_levels(y, quantize, cache)
    joint = np.bincount((qx * 256 + qy).ravel(), minlength=65536)
    joint = joint.reshape(256, 256) / qx.size
    px, py = joint.sum(1), joint.sum(0)
    nz = joint > 0
    outer = np.outer(px, py)
    mi = (joint[nz] * np.log(joint[nz] / outer[nz])).sum()
    return float(max(mi, 0.0) / math.log(base))


def fusion_mi(a: ArrayLike,
              b: ArrayLike,
              f: ArrayLike,
              base: float = math.e,
              quantize: str = 'round',
              cache: Optional[object] = None) -> float:
    r"""Fusion MI: :math:`MI = MI(A, F) + MI(B, F)` (F's levels are
    computed once)."""
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    return (mutual_information(a, f, base, quantize, cache) +
            mutual_information(b, f, base, quantize, cache))


# --------------------------------------------------------------------------
# VIF
# --------------------------------------------------------------------------
def _valid(y: np.ndarray, r: int) -> np.ndarray:
    return y[r:y.shape[0] - r, r:y.shape[1] - r]


def _vif_scales(x: np.ndarray) -> list:
    """Per VIF scale: ``(kernel, image, G(image), G(image^2))`` of one
    image, the filter outputs 'valid' (shared by both sources for the fused
    image)."""
    out = []
    for scale in range(1, 5):
        n = 2**(4 - scale + 1) + 1
        k = _gauss1d(n, n / 5.0)
        if scale > 1:
            x = _sep_valid(x, k, step=2)
        if min(x.shape) < n:
            raise ValueError(f'VIF needs images of at least 41x41 pixels '
                             f'(4 scales); scale {scale} has shape '
                             f'{x.shape}')
        out.append((k, x, _sep_valid(x, k), _sep_valid(x, k, square=True)))
    return out


def _vif_moments(mu: np.ndarray,
                 q: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Local mean and variance (clamped at 0) from :func:`_vif_scales`'
    filter outputs (numpy path)."""
    var = q - mu * mu
    np.maximum(var, 0, out=var)
    return mu, var


def _vif_from(ref_scales: list, dist_scales: list, sigma_nsq: float) -> float:
    """VIF from :func:`_vif_scales` of the reference and the distorted
    image (neither is modified); natural logarithms (the base cancels in
    the ratio)."""
    num = den = 0.0
    for (k, ref, mu1, q1), (_, dist, mu2, q2) in zip(ref_scales,
                                                     dist_scales):
        s12 = _sep_valid(ref, k, dist)
        m1, s1 = _vif_moments(mu1, q1)
        m2, s2 = _vif_moments(mu2, q2)
        n, d = _vif_chain(s12, m1, m2, s1, s2, sigma_nsq)
        num += n
        den += d
    with np.errstate(invalid='ignore', divide='ignore'):
        v = np.float64(num) / den     # 0 / 0 -> NaN (flat reference)
    return 1.0 if np.isnan(v) else float(v)


def _vif_chain(s12: np.ndarray, mu1: np.ndarray, mu2: np.ndarray,
               s1: np.ndarray, s2: np.ndarray,
               sigma_nsq: float) -> Tuple[float, float]:
    """numpy path of one VIF scale: sums of ``log(1 + g^2 s1 / (sv +
    sigma_nsq))`` and ``log(1 + s1 / sigma_nsq)`` (``s12``, the filtered
    product, and ``s1`` are overwritten)."""
    eps = 1e-10
    s12 -= mu1 * mu2
    g = s1 + eps
    np.divide(s12, g, out=g)
    sv = g * s12
    np.subtract(s2, sv, out=sv)
    m = s1 < eps
    np.copyto(g, 0.0, where=m)
    np.copyto(sv, s2, where=m)
    np.copyto(s1, 0.0, where=m)
    np.less(s2, eps, out=m)
    np.copyto(g, 0.0, where=m)
    np.copyto(sv, 0.0, where=m)
    np.less(g, 0, out=m)
    np.copyto(sv, s2, where=m)
    np.copyto(g, 0.0, where=m)
    np.less_equal(sv, eps, out=m)
    np.copyto(sv, eps, where=m)
    # log(1 + g * g * s1 / (sv + sigma_nsq)), log(1 + s1 / sigma_nsq)
    g *= g
    g *= s1
    sv += sigma_nsq
    g /= sv
    g += 1
    num = np.log(g, out=g).sum()
    t = s1 / sigma_nsq
    t += 1
    den = np.log(t, out=t).sum()
    return float(num), float(den)


def vif(ref: ArrayLike, dist: ArrayLike, sigma_nsq: float = 2.0) -> float:
    r"""Pixel-domain multi-scale VIF of Sheikh & Bovik (``vifp_mscale``).

    Four scales; at scale :math:`s` a Gaussian window of size
    :math:`N=2^{5-s}+1`, :math:`\sigma=N/5` ('valid' filtering; for
    :math:`s>1` the images are first low-passed and decimated by 2). With
    local statistics :math:`\sigma_R^2, \sigma_D^2, \sigma_{RD}`,
    :math:`g=\sigma_{RD}/\sigma_R^2`,
    :math:`\sigma_V^2=\sigma_D^2-g\sigma_{RD}` (clamped as in the reference
    code) and :math:`\sigma_n^2 = 2`:

    .. math:: VIF = \frac{\sum_s\sum \log_{10}(1 + g^2\sigma_R^2 /
              (\sigma_V^2+\sigma_n^2))}{\sum_s\sum\log_{10}(1 +
              \sigma_R^2/\sigma_n^2)}

    Returns 1.0 when the ratio is NaN (flat reference), as the cddfuse code.
    """
    ref, dist = _prep(ref, dist, names=('ref', 'dist'))
    return _vif_from(_vif_scales(ref), _vif_scales(dist), sigma_nsq)


def fusion_vif(a: ArrayLike,
               b: ArrayLike,
               f: ArrayLike,
               cache: Optional[object] = None) -> float:
    r"""Fusion VIF: :math:`VIF = VIF(A, F) + VIF(B, F)` (see :func:`vif`;
    the fused image's pyramid and local statistics are computed once, and
    taken from ``cache`` when given)."""
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    return _fusion_vif_term(a, f, cache) + _fusion_vif_term(b, f, cache)


def _fusion_vif_term(x: np.ndarray, f: np.ndarray,
                     cache: Optional[object]) -> float:
    """:math:`VIF(X, F)`, one of :func:`fusion_vif`'s two terms (``f``'s
    pyramid from ``cache`` when given)."""
    fs = _vif_scales(f) if cache is None else cache.vif_scales(f)
    return _vif_from(_vif_scales(x), fs, 2.0)


# --------------------------------------------------------------------------
# edge-preservation: Qabf, Nabf
# --------------------------------------------------------------------------
_SOBEL_Y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float64)
_SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)
_QABF_CONST = dict(Tg=0.9994, kg=-15.0, Dg=0.5, Ta=0.9879, ka=-22.0, Da=0.8)


def _qabf_edges(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    # conv2(x, h, 'same') with zero padding; correlation flips the sign of
    # both responses, which leaves magnitude and atan(y/x) unchanged.
    # (in place, in the operation order of
    # g = sqrt(sx^2 + sy^2), ang = where(sx == 0, pi/2, arctan(sy / sx)))
    sx = _filter(x, _SOBEL_X, cv2.BORDER_CONSTANT)
    sy = _filter(x, _SOBEL_Y, cv2.BORDER_CONSTANT)
    g = sx * sx
    t = sy * sy
    g += t
    np.sqrt(g, out=g)
    with np.errstate(divide='ignore', invalid='ignore'):
        np.divide(sy, sx, out=t)
    np.arctan(t, out=t)
    np.copyto(t, np.pi / 2, where=sx == 0)
    return g, t


def _qabf_q(gx, ax, gf, af, equal_rule: str) -> np.ndarray:
    c = _QABF_CONST
    if equal_rule not in ('reference', 'one'):
        raise ValueError(f"Qabf equal_rule must be 'reference' or 'one', "
                         f'got {equal_rule!r}')
    # in place, in the operation order of
    # ratio = where(gx > gf, gf / gx, gx / gf) (then the equal rule),
    # Tg / (1 + exp(kg (ratio - Dg))) * Ta / (1 + exp(ka (aaf - Da)))
    with np.errstate(divide='ignore', invalid='ignore'):
        ratio = gx / gf
        np.copyto(ratio, gf / gx, where=gx > gf)
    if equal_rule == 'reference':
        # the MATLAB / CDDFuse / VIFB code sets G = gF where gA == gF
        np.copyto(ratio, gf, where=gx == gf)
    else:
        np.copyto(ratio, 1.0, where=gx == gf)
    aaf = ax - af
    np.abs(aaf, out=aaf)
    aaf /= np.pi / 2
    np.subtract(1, aaf, out=aaf)
    ratio -= c['Dg']
    ratio *= c['kg']
    np.exp(ratio, out=ratio)
    ratio += 1
    qg = np.divide(c['Tg'], ratio, out=ratio)
    aaf -= c['Da']
    aaf *= c['ka']
    np.exp(aaf, out=aaf)
    aaf += 1
    qg *= np.divide(c['Ta'], aaf, out=aaf)
    return qg


def qabf_max() -> float:
    """Largest value the Xydeas–Petrović edge-preservation factor reaches.

    :math:`Q_g(1)Q_\\alpha(1) = \\frac{0.9994}{1+e^{-15\\cdot0.5}}
    \\frac{0.9879}{1+e^{-22\\cdot0.2}} \\approx 0.9748`.
    """
    c = _QABF_CONST
    return (c['Tg'] / (1 + math.exp(c['kg'] * (1 - c['Dg']))) * c['Ta'] /
            (1 + math.exp(c['ka'] * (1 - c['Da']))))


def qabf(a: ArrayLike,
         b: ArrayLike,
         f: ArrayLike,
         scale: float = 1.0,
         equal_rule: str = 'reference',
         normalize: bool = False) -> float:
    r"""Xydeas–Petrović edge-preservation metric :math:`Q^{AB/F}`.

    Sobel responses (zero padding) give edge strength :math:`g` and
    orientation :math:`\alpha=\arctan(s_y/s_x)` (:math:`\pi/2` where
    :math:`s_x=0`). For source :math:`X\in\{A,B\}`:
    :math:`G^{XF}=\min(g_X,g_F)/\max(g_X,g_F)`,
    :math:`A^{XF}=1-|\alpha_X-\alpha_F|/(\pi/2)`,
    :math:`Q^{XF}=\frac{\Gamma_g}{1+e^{\kappa_g(G^{XF}-\sigma_g)}}
    \frac{\Gamma_\alpha}{1+e^{\kappa_\alpha(A^{XF}-\sigma_\alpha)}}` with
    :math:`\Gamma_g=0.9994,\kappa_g=-15,\sigma_g=0.5,\Gamma_\alpha=0.9879,
    \kappa_\alpha=-22,\sigma_\alpha=0.8`, and

    .. math:: Q^{AB/F}=\frac{\sum Q^{AF}g_A+Q^{BF}g_B}{\sum g_A+g_B}.

    Args:
        scale: multiply the 8-bit images by this first (tang evaluates on
            ``[0, 1]``: ``1/255``). Only matters with ``equal_rule=
            'reference'``.
        equal_rule: value of :math:`G^{XF}` where :math:`g_X=g_F`:
            ``'reference'`` = :math:`g_F` (what all three public codes do),
            ``'one'`` = 1 (the paper's ratio).
        normalize: divide :math:`Q^{XF}` by :func:`qabf_max` so that
            ``A == B == F`` gives exactly 1 (with ``equal_rule='one'``).
    """
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    if equal_rule not in ('reference', 'one'):
        raise ValueError(f"Qabf equal_rule must be 'reference' or 'one', "
                         f'got {equal_rule!r}')
    # Sobel on the (integer) 8-bit values, then scale: the g_A == g_F tests
    # are exact instead of depending on round-off of the scaled image
    ga, aa = _qabf_edges(a)
    gb, ab = _qabf_edges(b)
    gf, af = _qabf_edges(f)
    if scale != 1:      # (x * 1.0 == x)
        ga, gb, gf = ga * scale, gb * scale, gf * scale
    qaf = _qabf_q(ga, aa, gf, af, equal_rule)
    qbf = _qabf_q(gb, ab, gf, af, equal_rule)
    if normalize:
        m = qabf_max()
        qaf /= m
        qbf /= m
    den = (ga + gb).sum()
    if den == 0:
        raise ValueError('Qabf is undefined: both sources have no edges')
    qaf *= ga
    qbf *= gb
    qaf += qbf
    return float(qaf.sum() / den)


def nabf(a: ArrayLike,
         b: ArrayLike,
         f: ArrayLike,
         scale: float = 1.0) -> float:
    r"""Fusion-artefact measure :math:`N^{AB/F}` as modified by Kumar (2013).

    Sobel/8 responses with mirror (reflect-101) padding; ``gXF`` is
    :math:`\min/\max` of edge strengths (0 when either is 0),
    :math:`A^{XF}=|\,|\alpha_X-\alpha_F|-\pi/2|\cdot 2/\pi`,
    :math:`Q^{XF}=\sqrt{Q_g Q_\alpha}` with
    :math:`Q_g=0.9999/(1+e^{-19(G-0.5)})`,
    :math:`Q_\alpha=0.9995/(1+e^{-22(A-0.5)})`, weights
    :math:`w_X=g_X^{1.5}` where :math:`g_X\ge 2` else 0.001, and artefact
    mask :math:`n = [g_F>g_A \wedge g_F>g_B]`:

    .. math:: N^{AB/F}=\frac{\sum n\,[(1-Q^{AF})w_A+(1-Q^{BF})w_B]}
              {\sum w_A+w_B}

    Args:
        scale: multiply the 8-bit images first; tang calls the code on
            ``[0, 1]`` images (``1/255``), where no gradient reaches the
            threshold 2 and every weight is 0.001.
    """
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    vt = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64) / 8
    ht = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64) / 8

    # everything below is computed in place, in the operation order of
    # the formulas in the comments
    def edges(x):
        gv = _filter(x, vt, cv2.BORDER_REFLECT_101)
        gh = _filter(x, ht, cv2.BORDER_REFLECT_101)
        # g = sqrt(gv^2 + gh^2)
        g = gv * gv
        t = gh * gh
        g += t
        np.sqrt(g, out=g)
        g *= scale
        # ang = where(gv == 0 & gh == 0, 0, arctan(gv / gh))
        with np.errstate(divide='ignore', invalid='ignore'):
            np.divide(gv, gh, out=t)
        np.arctan(t, out=t)
        np.copyto(t, 0.0, where=(gv == 0) & (gh == 0))
        return g, t

    ga, aa = edges(a)
    gb, ab = edges(b)
    gf, af = edges(f)

    def q(gx, ax):
        # r = where(gx == 0 | gf == 0, 0, where(gx > gf, gf/gx, gx/gf))
        with np.errstate(divide='ignore', invalid='ignore'):
            r = gx / gf
            np.copyto(r, gf / gx, where=gx > gf)
        np.copyto(r, 0.0, where=(gx == 0) | (gf == 0))
        # ang = |(|ax - af| - pi/2)| * 2 / pi
        ang = ax - af
        np.abs(ang, out=ang)
        ang -= np.pi / 2
        np.abs(ang, out=ang)
        ang *= 2
        ang /= np.pi
        # sqrt(0.9999 / (1 + exp(-19 (r - 0.5))) *
        #      0.9995 / (1 + exp(-22 (ang - 0.5))))
        r -= 0.5
        r *= -19
        np.exp(r, out=r)
        r += 1
        qg = np.divide(0.9999, r, out=r)
        ang -= 0.5
        ang *= -22
        np.exp(ang, out=ang)
        ang += 1
        qg *= np.divide(0.9995, ang, out=ang)
        return np.sqrt(qg, out=qg)

    def weight(g):
        # where(g >= 2, g ** 1.5, 0.001); the power only where needed
        w = np.full_like(g, 0.001)
        m = g >= 2
        w[m] = g[m]**1.5
        return w

    qaf, qbf = q(ga, aa), q(gb, ab)
    wa, wb = weight(ga), weight(gb)
    na = (gf > ga) & (gf > gb)
    # (na * ((1 - qaf) wa + (1 - qbf) wb)).sum() / (wa + wb).sum()
    np.subtract(1, qaf, out=qaf)
    qaf *= wa
    np.subtract(1, qbf, out=qbf)
    qbf *= wb
    qaf += qbf
    qaf *= na
    wa += wb
    return float(qaf.sum() / wa.sum())


# --------------------------------------------------------------------------
# correlation-based
# --------------------------------------------------------------------------
def _corr(x: np.ndarray,
          y: np.ndarray,
          cache: Optional[object] = None) -> float:
    xm = _cached(cache, 'centred', x, lambda x: x - x.mean())
    ym = _cached(cache, 'centred', y, lambda y: y - y.mean())
    sx = _cached(cache, 'sumsq', x, lambda x: _sumsq(xm))
    sy = _cached(cache, 'sumsq', y, lambda y: _sumsq(ym))
    den = np.sqrt(sx * sy)
    if den == 0:
        return float('nan')
    return float((xm * ym).sum() / den)


def cc(a: ArrayLike,
       b: ArrayLike,
       f: ArrayLike,
       cache: Optional[object] = None) -> float:
    r"""Correlation coefficient :math:`CC = (r(A,F) + r(B,F))/2`, Pearson
    :math:`r` over all pixels (scale invariant). ``cache``: see
    :class:`FusionPairCache` (F's centred image is computed once)."""
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    return (_corr(a, f, cache) + _corr(b, f, cache)) / 2


def scd(a: ArrayLike,
        b: ArrayLike,
        f: ArrayLike,
        cache: Optional[object] = None) -> float:
    r"""Sum of the correlations of differences (Aslantas & Bendes 2015).

    .. math:: SCD = r(F - B, A) + r(F - A, B)

    ``cache``: see :class:`FusionPairCache` (shares the centred sources
    with CC).
    """
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    return _corr(f - b, a, cache) + _corr(f - a, b, cache)


def fusion_psnr(a: ArrayLike,
                b: ArrayLike,
                f: ArrayLike,
                peak: str = 'max_f',
                mse_mode: str = 'mean') -> float:
    r"""Fusion PSNR against both sources.

    ``mse_mode='mean'``: :math:`MSE = (MSE(A,F) + MSE(B,F))/2` on the 8-bit
    scale. Then

    * ``peak='max_f'`` (cddfuse): :math:`10\log_{10}(\max(F)^2/MSE)`;
    * ``peak='255'``: :math:`10\log_{10}(255^2/MSE)`;
    * ``peak='tang'``: :math:`20\log_{10}(255/\sqrt{MSE_{[0,1]}})` with the
      MSE of the ``[0, 1]`` images (= ``'255'`` + :math:`20\log_{10}255`
      ≈ +48.13 dB).

    ``mse_mode='vifb'`` uses VIFB's ``mse`` helper,
    :math:`\sqrt{\sum(X-F)^2}/(MN)` per source (an RMS-like quantity, kept
    as published), with ``peak='255'``.
    """
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    if mse_mode == 'mean':
        mse = (np.mean((a - f)**2) + np.mean((b - f)**2)) / 2
    elif mse_mode == 'vifb':
        mse = (np.sqrt(((a - f)**2).sum()) + np.sqrt(
            ((b - f)**2).sum())) / (2 * f.size)
    else:
        raise ValueError(f"PSNR mse_mode must be 'mean' or 'vifb', "
                         f'got {mse_mode!r}')
    with np.errstate(divide='ignore'):
        if peak == 'max_f':
            return float(10 * np.log10(f.max()**2 / mse))
        if peak == '255':
            return float(10 * np.log10(255.0**2 / mse))
        if peak == 'tang':
            return float(20 * np.log10(255.0 / np.sqrt(mse / 255.0**2)))
    raise ValueError(f"PSNR peak must be 'max_f', '255' or 'tang', "
                     f'got {peak!r}')


# --------------------------------------------------------------------------
# SSIM family
# --------------------------------------------------------------------------
def ssim(x: ArrayLike,
         y: ArrayLike,
         mode: str = 'gaussian',
         data_range: float = 255.0) -> float:
    r"""Structural similarity of two gray images.

    .. math:: SSIM = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy}+C_2)}
              {(\mu_x^2+\mu_y^2+C_1)(\sigma_x^2+\sigma_y^2+C_2)},
              \quad C_1=(0.01L)^2, C_2=(0.03L)^2

    averaged over the map.

    * ``mode='gaussian'`` (Wang et al. reference, tang, vifb): 11x11
      Gaussian window, :math:`\sigma=1.5`, population moments, mean over the
      'valid' region.
    * ``mode='skimage'`` (cddfuse): ``skimage.metrics.structural_similarity``
      defaults: 7x7 uniform window, sample covariance (:math:`N/(N-1)`),
      mean over the map cropped by 3 pixels. The cddfuse code passes float
      images without ``data_range``; older scikit-image then takes the
      float dtype range, :math:`L = 2`, which the preset reproduces.

    Args:
        data_range: :math:`L`.
    """
    x, y = _prep(x, y, names=('x', 'y'))
    full, r, cov_norm = _ssim_window(mode, x.shape)
    return _ssim_from(x, y, _ssim_raw(x, full), _ssim_raw(y, full), full, r,
                      cov_norm, data_range)


def _ssim_window(mode: str, shape) -> Tuple[Callable, int, float]:
    """``(full, r, cov_norm)`` of a mode: the local-mean filter's full
    (C-contiguous) output, whose ``[r:-r, r:-r]`` is the 'valid' part that
    SSIM averages, and the covariance factor."""
    if mode == 'gaussian':
        k = _gauss1d(11, 1.5)

        def full(z):
            return _sep_full(z, k)

        if min(shape) < 11:
            raise ValueError(f'SSIM needs images of at least 11x11, got '
                             f'{shape}')
        return full, 5, 1.0
    if mode == 'skimage':
        if min(shape) < 7:
            raise ValueError(f'SSIM needs images of at least 7x7, got '
                             f'{shape}')

        def full(z):
            return cv2.blur(z, (7, 7), borderType=cv2.BORDER_REFLECT)

        return full, 3, 49.0 / 48.0
    raise ValueError(f"SSIM mode must be 'gaussian' or 'skimage', "
                     f'got {mode!r}')


def _ssim_raw(z: np.ndarray,
              full: Callable) -> Tuple[np.ndarray, np.ndarray]:
    """Full filter outputs ``(G(z), G(z^2))`` of one image."""
    return full(z), full(z * z)


def _ssim_from(x, y, x_raw, y_raw, full, r, cov_norm, data_range) -> float:
    """Mean SSIM map from :func:`_ssim_raw` of both images (not
    modified)."""
    (gx, qx), (gy, qy) = x_raw, y_raw
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    sxy = full(x * y)
    # local means, cov_norm * variances and covariance ('valid' part)
    mx, my = _valid(gx, r), _valid(gy, r)
    vx = _valid(qx, r) - mx * mx
    vx *= cov_norm
    vy = _valid(qy, r) - my * my
    vy *= cov_norm
    vxy = _valid(sxy, r) - mx * my
    vxy *= cov_norm
    # ((2 mx my + c1) (2 vxy + c2)) / ((mx^2 + my^2 + c1) (vx + vy + c2)),
    # in place, same operation order
    s = 2 * mx
    s *= my
    s += c1
    vxy *= 2
    vxy += c2
    s *= vxy
    den = mx * mx
    t = my * my
    den += t
    den += c1
    np.add(vx, vy, out=t)
    t += c2
    den *= t
    s /= den
    return float(s.mean())


def fusion_ssim(a: ArrayLike,
                b: ArrayLike,
                f: ArrayLike,
                mode: str = 'gaussian',
                data_range: float = 255.0) -> float:
    r"""Fusion SSIM: :math:`SSIM(A,F) + SSIM(B,F)` (see :func:`ssim`; the
    fused image's local moments are computed once)."""
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    full, r, cov_norm = _ssim_window(mode, f.shape)
    fr = _ssim_raw(f, full)
    return sum(
        _ssim_from(x, f, _ssim_raw(x, full), fr, full, r, cov_norm,
                   data_range) for x in (a, b))


_MS_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def ms_ssim(x: ArrayLike, y: ArrayLike, data_range: float = 255.0) -> float:
    r"""Multi-scale SSIM (Wang, Simoncelli & Bovik 2003).

    Five scales (2x2 average-pool between scales), 11x11 Gaussian
    :math:`\sigma=1.5` 'valid' windows, exponents
    ``(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)``:

    .. math:: MS\text{-}SSIM = [l_5]^{w_5}\prod_{j=1}^{5}[cs_j]^{w_j}

    with negative factors clamped to 0. Needs images of at least 176 px per
    side.
    """
    x, y = _prep(x, y, names=('x', 'y'))
    return _ms_ssim_from(_ms_pyramid(x), _ms_pyramid(y), data_range)


def _ms_pyramid(x: np.ndarray) -> list:
    """Per MS-SSIM scale: ``(image, local mean, local variance)``."""
    if min(x.shape) < 11 * 16:
        raise ValueError(f'MS-SSIM needs images of at least 176x176, got '
                         f'{x.shape}')
    k = _gauss1d(11, 1.5)
    out = []
    for j in range(len(_MS_WEIGHTS)):
        if j:
            h, wd = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
            x = x[:h, :wd].reshape(h // 2, 2, wd // 2, 2).mean((1, 3))
        m = _sep_valid(x, k)
        v = _sep_valid(x, k, square=True)
        v -= m * m
        out.append((x, m, v))
    return out


def _ms_ssim_from(xs: list, ys: list, data_range: float) -> float:
    """MS-SSIM from two :func:`_ms_pyramid` (not modified)."""
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    k = _gauss1d(11, 1.5)
    val = 1.0
    for j, w in enumerate(_MS_WEIGHTS):
        (x, mx, vx), (y, my, vy) = xs[j], ys[j]
        vxy = _sep_valid(x, k, y)
        vxy -= mx * my
        # ((2 vxy + c2) / (vx + vy + c2)).mean(), same operation order
        cs = 2 * vxy
        cs += c2
        t = vx + vy
        t += c2
        cs /= t
        val *= max(cs.mean(), 0.0)**w
        if j == len(_MS_WEIGHTS) - 1:
            # ((2 mx my + c1) / (mx^2 + my^2 + c1)).mean()
            lum = 2 * mx
            lum *= my
            lum += c1
            np.multiply(mx, mx, out=t)
            t += my * my
            t += c1
            lum /= t
            val *= max(lum.mean(), 0.0)**w
    return float(val)


def fusion_ms_ssim(a: ArrayLike, b: ArrayLike, f: ArrayLike) -> float:
    r"""Fusion MS-SSIM: :math:`(MS\text{-}SSIM(A,F)+MS\text{-}SSIM(B,F))/2`
    (the mean, so that it stays in ``[0, 1]`` like the published values;
    the fused image's pyramid is computed once)."""
    a, b, f = _prep(a, b, f, names=('a', 'b', 'f'))
    fp = _ms_pyramid(f)
    return (_ms_ssim_from(_ms_pyramid(a), fp, 255.0) +
            _ms_ssim_from(_ms_pyramid(b), fp, 255.0)) / 2


def oracle_metrics(a, b, f, preset: str,
                   names: Sequence[str]) -> Dict[str, float]:
    """``{metric: value}`` of the metrics of ``names`` that this module
    implements, with ``preset``'s conventions."""
    out = {}
    for m in names:
        bd = PRESET_BINDINGS[preset][m]
        fn = globals().get(bd.fn)
        if fn is None:
            continue
        with np.errstate(divide='ignore', invalid='ignore'):
            v = fn(f, **bd.kwargs) if bd.nr else fn(a, b, f, **bd.kwargs)
        out[m] = float(v) / (bd.div or 1.0)
    return out
