"""Image-fusion quality metrics: one batched torch implementation.

Every metric takes the sources ``a``, ``b`` and the fused image ``f`` (or
``f`` alone) on the 8-bit scale ``[0, 255]``, as single gray images or as
batches (:func:`~._utils.batched_metric`), and computes in float64 on their
device. Each convention on which the public evaluators (cddfuse, Tang's
MATLAB suite, VIFB, IVIF_ZOO) disagree is a keyword argument, and
:mod:`..fusion_presets` binds them into named presets, evaluated by
:func:`compute_fusion_metrics` (on the CPU each metric of each pair on
one thread, several at once). Filters are sums of shifted slices, or
banded matrix products for long kernels, the same code on every device;
a few float64 functions are numpy's on the CPU (faster than torch's).
``docs/user_guides/evaluation.md`` and ``evaluation_ivif_zoo.md`` give the
formulas and conventions.
"""
import math
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from ._utils import ArrayLike, as_batch
from ._utils import batched_metric as _metric
from ..fusion_presets import PRESET_BINDINGS, Binding, resolve_metrics

__all__ = [
    'entropy', 'standard_deviation', 'spatial_frequency', 'average_gradient',
    'mutual_information', 'fusion_mi', 'vif', 'fusion_vif', 'qabf', 'nabf',
    'qabf_max', 'cc', 'scd', 'fusion_psnr', 'ssim', 'fusion_ssim', 'ms_ssim',
    'fusion_ms_ssim', 'fmi', 'cross_entropy', 'nmi', 'qncie',
    'tsallis_entropy', 'edge_intensity', 'qy', 'qcb', 'fusion_mse',
    'ivif_zoo_ms_ssim', 'compute_fusion_metrics'
]

Tensor = torch.Tensor


# ------------------------------------------------------------ filters
def _gauss1d(n: int, sigma: float) -> np.ndarray:
    """1-D factor of MATLAB's ``fspecial('gaussian', n, sigma)``."""
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    g = np.exp(-x * x / (2.0 * sigma * sigma))
    return g / g.sum()


def _taps(x: Tensor, k: np.ndarray, dim: int, step: int = 1) -> Tensor:
    """1-D correlation along ``dim``, 'valid' part, every ``step``-th
    output, as a sum of shifted slices (float64 ``conv2d`` has no fast CPU
    kernel)."""
    m = (x.shape[dim] - len(k)) // step + 1

    def tap(i):
        return x[(slice(None), ) * dim + (slice(i, i + (m - 1) * step + 1,
                                                step), )]

    out = tap(0) * float(k[0])
    for i in range(1, len(k)):
        if k[i]:
            out.add_(tap(i), alpha=float(k[i]))
    return out


def _band(x: Tensor, k: np.ndarray, step: int = 1, b: int = 8) -> Tensor:
    """1-D correlation of the rows of ``x`` (2-D), 'valid' part, every
    ``step``-th output, transposed: ``b`` outputs at a time, a banded
    ``(b, K)`` matrix times the ``(K, rows)`` views of ``x`` (a NaN or inf
    of ``x`` spreads over its blocks, through the band's zeros)."""
    n = len(k)
    m = (x.shape[1] - n) // step + 1
    nb = -(-m // b)  # blocks of b outputs; zeros past the end
    band = np.zeros((b, (b - 1) * step + n))
    for i in range(b):
        band[i, i * step:i * step + n] = k
    width = (nb - 1) * b * step + band.shape[1]
    if width > x.shape[1]:
        x = F.pad(x, (0, width - x.shape[1]))
    (s0, s1), o = x.stride(), x.storage_offset()
    blocks = x.as_strided((nb, band.shape[1], x.shape[0]),
                          (b * step * s1, s1, s0), o)
    return (x.new_tensor(band) @ blocks).view(nb * b, -1)[:m]


def _sep(x: Tensor, kx: np.ndarray, ky: Optional[np.ndarray] = None,
         step: int = 1) -> Tensor:
    """'valid' correlation of every image of ``x`` with ``outer(ky, kx)``
    (every ``step``-th row and column)."""
    ky = kx if ky is None else ky
    if min(len(kx), len(ky)) < 9:  # else the matmuls are faster
        return _taps(_taps(x, kx, 2, step), ky, 1, step)
    n, h = x.shape[:2]
    y = _band(x.reshape(-1, x.shape[2]), kx, step)  # (columns, n * h)
    y = _band(y.view(-1, h), ky, step)  # (rows, columns * n)
    return y.view(y.shape[0], -1, n).permute(2, 0, 1).contiguous()


def _pad(x: Tensor, r: int, mode: str = 'constant') -> Tensor:
    """``r`` pixels around every image, zeros or reflect-101
    (``'reflect'``)."""
    return F.pad(x[:, None], (r, r, r, r), mode=mode)[:, 0]


def _ufunc_(x: Tensor, np_fn: np.ufunc, torch_fn: Callable) -> Tensor:
    """``torch_fn(x)`` in place, or numpy's ``np_fn`` on the CPU (faster
    for float64 ``log1p`` and ``arctan``)."""
    if x.device.type != 'cpu':
        return torch_fn(x)
    np_fn(x.numpy(), out=x.numpy())
    return x


def _mean(x: Tensor) -> Tensor:
    return x.flatten(1).mean(1)


def _sum(x: Tensor) -> Tensor:
    return x.flatten(1).sum(1)


# ------------------------------------------------------------ statistics
def _levels(x: Tensor, quantize: str = 'round') -> Tensor:
    if quantize == 'round':
        return x.round().clamp(0, 255).long()
    if quantize == 'minmax':
        lo = x.flatten(1).amin(1)[:, None, None]
        rng = x.flatten(1).amax(1)[:, None, None] - lo
        y = torch.where(rng != 0, (x - lo) / torch.where(rng != 0, rng, 1.0),
                        0.0) * 255
        return (torch.sign(y) * torch.floor(y.abs() + 0.5)).long()
    raise ValueError(f"MI quantize must be 'round' or 'minmax', "
                     f'got {quantize!r}')


def _plogp(p: Tensor) -> Tensor:
    return torch.where(p > 0, p * torch.log(torch.where(p > 0, p, 1.0)), 0.)


def _hist(idx: Tensor, bins: int) -> Tensor:
    """``(N, bins)`` probabilities of the integer levels ``idx`` of each
    image: one ``bincount`` with per-image offsets."""
    n = idx.shape[0]
    idx = idx.flatten(1) + bins * torch.arange(n, device=idx.device)[:, None]
    counts = torch.bincount(idx.flatten(), minlength=bins * n).view(n, bins)
    return counts.to(torch.float64) / idx.shape[1]


def _minmax(x: Tensor) -> Tuple[Tensor, Tensor]:
    """Every image stretched to ``[0, 1]`` over its last two dims (NaN for a
    constant one), and which images are constant."""
    lo, hi = x.flatten(-2).amin(-1), x.flatten(-2).amax(-1)
    return (x - lo[..., None, None]) / (hi - lo)[..., None, None], lo == hi


@_metric('img')
def entropy(f: Tensor, base: float = 2.0, eps: float = 0.0) -> Tensor:
    """Shannon entropy (EN) of the 256-bin histogram of the rounded
    levels; ``eps > 0``: ``-sum p log(p + eps)`` over all levels
    (IVIF_ZOO)."""
    p = _hist(_levels(f), 256)
    plogp = p * torch.log(p + eps) if eps else _plogp(p)
    return 0.0 - plogp.sum(1) / math.log(base)  # 0.0, not -0.0


@_metric('img')
def standard_deviation(f: Tensor, mode: str = 'population') -> Tensor:
    """SD; ``'matlab_uint8'``: ``SD_evaluation.m`` on a uint8 image
    (MATLAB's integer arithmetic rounds and saturates: only pixels above
    the mean count, each square capped at 255)."""
    d = f - _mean(f)[:, None, None]
    if mode == 'population':
        return torch.sqrt(_mean(d * d))
    if mode == 'matlab_uint8':
        d = (torch.sign(d) * torch.floor(d.abs() + 0.5)).clamp(0, 255)
        return torch.sqrt(_sum(torch.clamp(d * d, max=255)) / d[0].numel())
    raise ValueError(f"SD mode must be 'population' or 'matlab_uint8', "
                     f'got {mode!r}')


@_metric('img')
def spatial_frequency(f: Tensor, divisor: str = 'mean') -> Tensor:
    """SF from squared first differences, each averaged over its own count
    (``'mean'``) or both summed over ``MN`` (``'mn'``)."""
    dx2 = (f[:, :, 1:] - f[:, :, :-1])**2
    dy2 = (f[:, 1:] - f[:, :-1])**2
    if divisor == 'mean':
        return torch.sqrt(_mean(dx2) + _mean(dy2))
    if divisor == 'mn':
        return torch.sqrt((_sum(dx2) + _sum(dy2)) / f[0].numel())
    raise ValueError(f"SF divisor must be 'mean' or 'mn', got {divisor!r}")


@_metric('img')
def average_gradient(f: Tensor, divisor: str = 'mn') -> Tensor:
    """AG: mean of ``sqrt((gx^2 + gy^2) / 2)`` (MATLAB ``gradient``) over
    ``MN`` (``'mn'``) or ``(M-1)(N-1)`` (``'m1n1'``)."""
    h, w = f.shape[1:]
    if min(h, w) < 2:
        raise ValueError(f'AG needs an image of at least 2x2, got {(h, w)}')
    if divisor not in ('mn', 'm1n1'):
        raise ValueError(f"AG divisor must be 'mn' or 'm1n1', "
                         f'got {divisor!r}')
    gy, gx = torch.gradient(f, dim=(1, 2))
    s = _sum(torch.sqrt((gx * gx + gy * gy) / 2.0))
    return s / (h * w if divisor == 'mn' else (h - 1) * (w - 1))


@_metric('x', 'y')
def mutual_information(x: Tensor, y: Tensor, base: float = math.e,
                       quantize: str = 'round') -> Tensor:
    """MI from the 256x256 joint histogram of the levels (``'round'``, or
    after a min-max stretch to ``[0, 255]``: ``'minmax'``)."""
    joint = _hist(_levels(x, quantize) * 256 + _levels(y, quantize),
                  65536).view(-1, 256, 256)
    px, py = joint.sum(2), joint.sum(1)
    h = -_plogp(px).sum(1) - _plogp(py).sum(1) + _plogp(joint).sum((1, 2))
    return h.clamp(min=0.0) / math.log(base)


@_metric('a', 'b', 'f')
def fusion_mi(a, b, f, base=math.e, quantize='round') -> Tensor:
    """``MI(A, F) + MI(B, F)``."""
    return (mutual_information(a, f, base=base, quantize=quantize) +
            mutual_information(b, f, base=base, quantize=quantize))


# ------------------------------------------------------------ VIF
def _vif_scales(x: Tensor, window: str = 'valid') -> list:
    """Per scale ``(filter, image, local mean, local variance)``:
    ``'valid'`` Gaussians (``vifp_mscale``), or IVIF_ZOO's same-size ones
    with a zero border, sampled off centre (``'ivif_zoo'``)."""
    out = []
    for scale in range(1, 5):
        n = 2**(5 - scale) + 1
        if window == 'valid':
            k = _gauss1d(n, n / 5.0)

            def filt(z, step=1, k=k):
                return _sep(z, k, step=step)
        else:   # numpy's linspace(-(n + 1) // 2, n // 2, n)
            t = np.linspace(-(n + 1) // 2, n // 2, n)
            k = np.exp(-t * t / (2 * (n / 5)**2))

            def filt(z, step=1, k=k / k.sum()):
                return _sep(_pad(z, len(k) // 2), k, step=step)
        if scale > 1:
            x = filt(x, step=2)
        if min(x.shape[1:]) < n:
            raise ValueError(f'VIF needs images of at least 41x41 pixels '
                             f'(4 scales); scale {scale} has shape '
                             f'{tuple(x.shape[1:])}')
        mu = filt(x)
        out.append((filt, x, mu, filt(x * x).sub_(mu * mu).clamp_(min=0)))
    return out


def _vif_from(ref: list, dist: list, sigma_nsq: float = 2.0) -> Tensor:
    """VIF from two :func:`_vif_scales`, with the reference code's rules:
    nothing from pixels where either variance is below 1e-10 or the
    covariance is negative (the log base cancels in the ratio); NaN for a
    flat reference."""
    eps = 1e-10
    below = float(np.nextafter(eps, 0))  # x > below: x >= eps
    num = den = 0.0
    for (filt, x, mu1, s1), (_, y, mu2, s2) in zip(ref, dist):
        # the rules as factors (comparisons and torch.where are slow on
        # the CPU): s1 where s1 >= eps else 0, the covariance clamped at 0
        # (then g = 0), 1 where s2 >= eps else 0
        s1_kept = F.threshold(s1, below, 0.0)
        s12 = filt(x * y).sub_(mu1 * mu2).clamp_(min=0)
        g = s12 / (s1 + eps)
        sv = torch.addcmul(s2, g, s12, value=-1).clamp_(min=eps)
        t = g.mul_(g).mul_(s1_kept).div_(sv.add_(sigma_nsq))
        t.mul_(F.threshold(s2, below, 0.0).sign_())
        num = num + _sum(_ufunc_(t, np.log1p, Tensor.log1p_))
        s1_kept.div_(sigma_nsq)
        den = den + _sum(_ufunc_(s1_kept, np.log1p, Tensor.log1p_))
    return num / den


@_metric('ref', 'dist')
def vif(ref: Tensor, dist: Tensor, sigma_nsq: float = 2.0) -> Tensor:
    """Pixel-domain multi-scale VIF of Sheikh & Bovik (``vifp_mscale``);
    1 for a flat reference, as the cddfuse code."""
    v = _vif_from(_vif_scales(ref), _vif_scales(dist), sigma_nsq)
    return v.nan_to_num(1.0)


@_metric('a', 'b', 'f')
def fusion_vif(a: Tensor, b: Tensor, f: Tensor,
               window: str = 'valid') -> Tensor:
    """``VIF(A, F) + VIF(B, F)`` (F's pyramid computed once); a flat source
    gives its term 1 (cddfuse), or NaN with IVIF_ZOO's ``window``."""
    fs = _vif_scales(f, window)
    v = [_vif_from(_vif_scales(x, window), fs) for x in (a, b)]
    if window == 'valid':
        v = [t.nan_to_num(1.0) for t in v]
    return v[0] + v[1]


# ------------------------------------------------------------ Qabf / Nabf
_QABF = dict(Tg=0.9994, kg=-15.0, Dg=0.5, Ta=0.9879, ka=-22.0, Da=0.8)
_SMOOTH, _DIFF = np.array([1., 2., 1.]), np.array([-1., 0., 1.])


def qabf_max() -> float:
    """Largest value of Xydeas and Petrovic's edge-preservation factor,
    ``Qg(1) * Qa(1)`` (about 0.9748)."""
    c = _QABF
    return (c['Tg'] / (1 + math.exp(c['kg'] * (1 - c['Dg']))) * c['Ta'] /
            (1 + math.exp(c['ka'] * (1 - c['Da']))))


def _ratio(gx: Tensor, gf: Tensor) -> Tensor:
    """``min / max`` of two edge strengths (0 where both are 0)."""
    return torch.minimum(gx, gf).div_(torch.maximum(gx, gf).clamp_(min=1e-300))


def _sobel(x: Tensor, mode: str) -> Tuple[Tensor, Tensor]:
    """Sobel responses ``(d/dx, d/dy)`` with a zero (``'constant'``) or a
    reflect-101 border."""
    x = _pad(x, 1, mode)
    return _sep(x, _DIFF, _SMOOTH), _sep(x, _SMOOTH, -_DIFF)


@_metric('a', 'b', 'f')
def qabf(a, b, f, scale: float = 1.0, equal_rule: str = 'reference',
         normalize: bool = False) -> Tensor:
    """Xydeas and Petrovic's edge preservation ``Q^{AB/F}`` (Sobel with a
    zero border; ``scale`` multiplies the edge strengths, e.g. 1/255 for an
    evaluator on ``[0, 1]``; ``equal_rule``: the strength ratio where
    ``g_X == g_F``, ``g_F`` as the public codes or ``'one'`` as the paper;
    ``normalize`` divides by :func:`qabf_max`)."""
    if equal_rule not in ('reference', 'one'):
        raise ValueError(f"Qabf equal_rule must be 'reference' or 'one', "
                         f'got {equal_rule!r}')

    def edges(x):
        sx, sy = _sobel(x, 'constant')
        # pi / 2 where sx == 0 (the quotient is then +-inf or NaN)
        t = (sy / sx).nan_to_num_(nan=math.inf, neginf=math.inf)
        g = torch.addcmul(sx * sx, sy, sy).sqrt_()
        return (g.mul_(scale) if scale != 1 else g,
                _ufunc_(t, np.arctan, Tensor.atan_))

    (ga, aa), (gb, ab), (gf, af) = edges(a), edges(b), edges(f)
    c = _QABF

    def q_times_g(gx, ax):
        # Tg / (1 + exp(kg (r - Dg))) * Ta / (1 + exp(ka (A - Da))) * gx,
        # A = 1 - |ax - af| / (pi / 2), as sigmoids; Tg * Ta after the sum
        r = torch.where(gx == gf, gf if equal_rule == 'reference' else 1.0,
                        _ratio(gx, gf))
        qg = r.mul_(-c['kg']).add_(c['kg'] * c['Dg']).sigmoid_()
        d = (ax - af).abs_().mul_(c['ka'] / (math.pi / 2))
        qa = d.add_(-c['ka'] * (1 - c['Da'])).sigmoid_()
        return _sum(qg.mul_(qa).mul_(gx))

    den = _sum(ga + gb)
    if bool((den == 0).any()):
        raise ValueError('Qabf is undefined: both sources have no edges')
    num = (q_times_g(ga, aa) + q_times_g(gb, ab)) * c['Tg'] * c['Ta']
    return num / den / (qabf_max() if normalize else 1.0)


@_metric('a', 'b', 'f')
def nabf(a, b, f, scale: float = 1.0, low_weight: float = 0.001) -> Tensor:
    """Fusion-artefact measure ``N^{AB/F}`` as modified by Kumar (2013):
    Sobel/8 with a reflect-101 border, weights ``g^1.5`` where ``g >= 2``
    (else ``low_weight``; IVIF_ZOO: 0), artefacts where F's edge exceeds
    both sources'. ``scale`` multiplies the edge strengths (computed on the
    8-bit levels, so that equal edges compare equal)."""

    def edges(x):
        gv, gh = _sobel(x, 'reflect')
        gv, gh = gv / 8, gh / -8
        ang = (gv / gh).atan_().nan_to_num_(0.0)    # 0 where both are 0
        return torch.addcmul(gv * gv, gh, gh).sqrt_().mul_(scale), ang

    (ga, aa), (gb, ab), (gf, af) = edges(a), edges(b), edges(f)

    def loss(gx, ax):
        # (1 - sqrt(Qg Qa)) w, Qg = 0.9999 / (1 + exp(-19 (r - 0.5))),
        # Qa = 0.9995 / (1 + exp(-22 (A - 0.5))), A = ||ax-af| - pi/2| 2/pi
        r = _ratio(gx, gf)
        qg = r.mul_(19).sub_(9.5).sigmoid_()
        d = (ax - af).abs_().sub_(math.pi / 2).abs_().mul_(44 / math.pi)
        q = qg.mul_(d.sub_(11).sigmoid_()).mul_(0.9999 * 0.9995).sqrt_()
        strong = (gx >= 2).double()
        w = torch.addcmul(low_weight * (1 - strong), strong, gx * gx.sqrt())
        return q.neg_().add_(1).mul_(w), w

    la, wa = loss(ga, aa)
    lb, wb = loss(gb, ab)
    art = (gf > ga) & (gf > gb)
    return _sum((la + lb).mul_(art)) / _sum(wa + wb)


# ------------------------------------------------------------ correlation
def _corr(x: Tensor, y: Tensor, eps: float = 0.0) -> Tensor:
    """Pearson correlation over all pixels, ``eps`` added to the
    denominator (NaN for a constant image when 0)."""
    xm = x - _mean(x)[:, None, None]
    ym = y - _mean(y)[:, None, None]
    return _sum(xm * ym) / (torch.sqrt(_sum(xm * xm) * _sum(ym * ym)) + eps)


@_metric('a', 'b', 'f')
def cc(a, b, f) -> Tensor:
    """``(r(A, F) + r(B, F)) / 2``, Pearson ``r`` over all pixels."""
    return (_corr(a, f) + _corr(b, f)) / 2


@_metric('a', 'b', 'f')
def scd(a, b, f) -> Tensor:
    """Sum of the correlations of differences, ``r(F-B, A) + r(F-A, B)``."""
    return _corr(f - b, a) + _corr(f - a, b)


@_metric('a', 'b', 'f')
def fusion_psnr(a, b, f, peak: str = 'max_f',
                mse_mode: str = 'mean') -> Tensor:
    """PSNR against both sources: ``mse_mode='mean'`` averages the two
    MSEs, ``'vifb'`` uses VIFB's ``sqrt(sum((X-F)^2)) / MN`` per source;
    ``peak``: ``'max_f'`` (max of F), ``'255'``, or ``'tang'`` (the MSE of
    ``[0, 1]`` images under ``20 log10(255 / sqrt(MSE))``)."""
    if mse_mode == 'mean':
        mse = (_mean((a - f)**2) + _mean((b - f)**2)) / 2
    elif mse_mode == 'vifb':
        mse = (torch.sqrt(_sum((a - f)**2)) + torch.sqrt(_sum(
            (b - f)**2))) / (2 * f[0].numel())
    else:
        raise ValueError(f"PSNR mse_mode must be 'mean' or 'vifb', "
                         f'got {mse_mode!r}')
    if peak == 'max_f':
        return 10 * torch.log10(f.flatten(1).amax(1)**2 / mse)
    if peak == '255':
        return 10 * torch.log10(255.0**2 / mse)
    if peak == 'tang':
        return 20 * torch.log10(255.0 / torch.sqrt(mse / 255.0**2))
    raise ValueError(f"PSNR peak must be 'max_f', '255' or 'tang', "
                     f'got {peak!r}')


# ------------------------------------------------------------ SSIM family
def _ssim_window(mode: str, shape) -> Tuple[np.ndarray, float]:
    """The local-mean kernel (1-D factor) and covariance factor of a
    mode."""
    n = {'gaussian': 11, 'skimage': 7}.get(mode)
    if n is None:
        raise ValueError(f"SSIM mode must be 'gaussian' or 'skimage', "
                         f'got {mode!r}')
    if min(shape) < n:
        raise ValueError(f'SSIM needs images of at least {n}x{n}, got '
                         f'{tuple(shape)}')
    if mode == 'gaussian':
        return _gauss1d(11, 1.5), 1.0
    return np.full(7, 1 / 7.0), 49.0 / 48.0


def _moments(x: Tensor, k: np.ndarray,
             ky: Optional[np.ndarray] = None) -> Tuple[Tensor, Tensor, Tensor]:
    """Local mean, its square and the local variance of ``x``."""
    mu = _sep(x, k, ky)
    mu2 = mu * mu
    return mu, mu2, _sep(x * x, k, ky).sub_(mu2)


def _cs_lum(x, y, mom_x, mom_y, k, cov_norm, data_range,
            ky=None) -> Tuple[Tensor, Tensor]:
    """SSIM's contrast-structure and luminance maps."""
    (mx, mx2, vx), (my, my2, vy) = mom_x, mom_y
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    mxy = mx * my
    cs = _sep(x * y, k, ky).sub_(mxy).mul_(2 * cov_norm).add_(c2)
    cs = cs.div_((vx + vy).mul_(cov_norm).add_(c2))
    return cs, mxy.mul_(2).add_(c1).div_((mx2 + my2).add_(c1))


def _ssim_map(*args) -> Tensor:
    cs, lum = _cs_lum(*args)
    return cs.mul_(lum)


@_metric('x', 'y')
def ssim(x: Tensor, y: Tensor, mode: str = 'gaussian',
         data_range: float = 255.0) -> Tensor:
    """Mean SSIM map: ``'gaussian'`` (11x11, sigma 1.5, population moments,
    Wang et al.) or ``'skimage'`` (scikit-image defaults: 7x7 uniform,
    sample covariance), over the 'valid' region; ``data_range`` is L."""
    k, cov_norm = _ssim_window(mode, x.shape[1:])
    return _mean(_ssim_map(x, y, _moments(x, k), _moments(y, k), k,
                           cov_norm, data_range))


@_metric('a', 'b', 'f')
def fusion_ssim(a, b, f, mode: str = 'gaussian',
                data_range: float = 255.0) -> Tensor:
    """``SSIM(A, F) + SSIM(B, F)`` (F's moments computed once)."""
    k, cov_norm = _ssim_window(mode, f.shape[1:])
    mf = _moments(f, k)
    return sum(
        _mean(_ssim_map(x, f, _moments(x, k), mf, k, cov_norm, data_range))
        for x in (a, b))


_MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _ms_pyramid(x: Tensor) -> list:
    k = _gauss1d(11, 1.5)
    out = []
    for j in range(len(_MS_WEIGHTS)):
        if j:
            x = F.avg_pool2d(x[:, None], 2)[:, 0]
        out.append((x, _moments(x, k)))
    return out


def _ms_ssim_from(xs: list, ys: list, data_range: float = 255.0) -> Tensor:
    k = _gauss1d(11, 1.5)
    val = 1.0
    for (x, mom_x), (y, mom_y), w in zip(xs, ys, _MS_WEIGHTS):
        cs, lum = _cs_lum(x, y, mom_x, mom_y, k, 1.0, data_range)
        val = val * _mean(cs).clamp(min=0)**w
    return val * _mean(lum).clamp(min=0)**w


def _check_ms(x: Tensor) -> None:
    if min(x.shape[1:]) < 11 * 16:
        raise ValueError(f'MS-SSIM needs images of at least 176x176, got '
                         f'{tuple(x.shape[1:])}')


@_metric('x', 'y')
def ms_ssim(x: Tensor, y: Tensor, data_range: float = 255.0) -> Tensor:
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003): five scales, 2x2
    average pooling, 11x11 Gaussian windows, negative factors clamped."""
    _check_ms(x)
    return _ms_ssim_from(_ms_pyramid(x), _ms_pyramid(y), data_range)


@_metric('a', 'b', 'f')
def fusion_ms_ssim(a, b, f) -> Tensor:
    """``(MS-SSIM(A, F) + MS-SSIM(B, F)) / 2`` (F's pyramid once)."""
    _check_ms(f)
    fp = _ms_pyramid(f)
    return (_ms_ssim_from(_ms_pyramid(a), fp) +
            _ms_ssim_from(_ms_pyramid(b), fp)) / 2


@_metric('a', 'b', 'f')
def fmi(a, b, f, **kwargs) -> Tensor:
    """Feature mutual information per image (:func:`.fmi_kernel.fmi`)."""
    from .fmi_kernel import fmi as fmi_one
    vals = [fmi_one(*(x.cpu().numpy() for x in xs), **kwargs)
            for xs in zip(a, b, f)]
    return torch.tensor(vals, dtype=torch.float64, device=f.device)


# ------------------------------------------------------------ IVIF_ZOO's
# the metrics of IVIF_ZOO's evaluator (github.com/RollingPlain/IVIF_ZOO,
# Metric/eval_torch.py) that the other evaluators lack, with its conventions
@_metric('a', 'b', 'f')
def cross_entropy(a, b, f) -> Tensor:
    """CE: ``BCE(sigmoid(F), (sigmoid(A) + sigmoid(B)) / 2)`` of the raw
    0-255 values, both clamped to ``[1e-7, 1 - 1e-7]``, in float32 (the
    per-image mean too) as IVIF_ZOO computes it: the value depends on
    float32 rounding (the sigmoids are 1 above ~17)."""
    a, b, f = (x.float() for x in (a, b, f))
    fp = torch.sigmoid(f).clamp(1e-7, 1.0 - 1e-7)
    t = ((torch.sigmoid(a) + torch.sigmoid(b)) / 2).clamp(1e-7, 1.0 - 1e-7)
    loss = F.binary_cross_entropy(fp, t, reduction='none')
    return loss.flatten(1).mean(1).double()


@_metric('a', 'b', 'f')
def tsallis_entropy(a, b, f) -> Tensor:
    """TE at ``q = 1``: ``H(A) + H(B) - H(F)`` in bits, ``log2(p + 1e-10)``."""
    h = [entropy(x, eps=1e-10) for x in (a, b, f)]
    return h[0] + h[1] - h[2]


@_metric('a', 'b', 'f')
def nmi(a, b, f) -> Tensor:
    """NMI: ``2 (MI(A, F) + MI(B, F)) / (H(A) + H(B) + 1e-10)`` in bits."""
    h = entropy(a, eps=1e-10) + entropy(b, eps=1e-10)
    return 2 * fusion_mi(a, b, f, base=2.0) / (h + 1e-10)


@_metric('a', 'b', 'f')
def qncie(a, b, f) -> Tensor:
    """QNCIE: ``1 + sum (r_i / 3) log_256(r_i / 3)``, ``r_i`` the
    eigenvalues of the correlation matrix (``+ 1e-10`` in the denominators)
    of the min-max normalised images; NaN if one is constant."""
    x, const = _minmax(torch.stack((a, b, f)))  # (3, N, H, W)
    const = const.any(0)
    ab, af, bf = (_corr(x[i], x[j], 1e-10)
                  for i, j in ((0, 1), (0, 2), (1, 2)))
    one = torch.ones_like(ab)
    r = torch.stack([one, ab, af, ab, one, bf, af, bf, one], 1).view(-1, 3, 3)
    r = torch.where(const[:, None, None], torch.eye(3).to(r), r)
    r = torch.linalg.eigvalsh(r)
    hr = -(r * torch.log2(r / 3) / 3).sum(1) / math.log2(256)
    return torch.where(const, math.nan, 1 - hr)


@_metric('img')
def edge_intensity(f) -> Tensor:
    """EI: mean Sobel gradient magnitude, zero border."""
    sx, sy = _sobel(f, 'constant')
    return _mean(torch.sqrt(sx * sx + sy * sy))


@_metric('a', 'b', 'f')
def fusion_mse(a, b, f) -> Tensor:
    """MSE: ``(MSE(A, F) + MSE(B, F)) / 2`` on the ``[0, 1]`` scale."""
    return (_mean((f - a)**2) + _mean((f - b)**2)) / (2 * 255.0**2)


@_metric('a', 'b', 'f')
def ivif_zoo_ms_ssim(a, b, f) -> Tensor:
    """IVIF_ZOO's MS_SSIM: ``MS-SSIM(A, F) + MS-SSIM(B, F)``, five levels of
    'valid' 11x11 Gaussian maps with ``data_range = 1`` constants, the mean
    cs at the first four and the mean SSIM at the last; odd sides are
    zero-padded on both ends before each 2x2 mean."""
    if min(f.shape[1:]) <= 160:
        raise ValueError(f'MS_SSIM (ivif_zoo) needs images with both sides '
                         f'above 160 pixels (4 down-samplings of an 11 x 11 '
                         f'window), got {tuple(f.shape[1:])}')
    k, xs, val = _gauss1d(11, 1.5), [a, b, f], [1.0, 1.0]
    for level, w in enumerate(_MS_WEIGHTS):
        mf = _moments(xs[2], k)
        for i in (0, 1):
            cs, lum = _cs_lum(xs[i], xs[2], _moments(xs[i], k), mf, k, 1.0,
                              1.0)
            m = _mean(cs * lum if level == 4 else cs)
            val[i] = val[i] * m.clamp(min=0)**w
        ph, pw = f.shape[1] % 2, f.shape[2] % 2
        xs = [F.avg_pool2d(F.pad(x, (pw, pw, ph, ph))[:, None], 2)[:, 0]
              for x in xs]
        f = xs[2]
    return val[0] + val[1]


_QY_G = _gauss1d(7, 1.5)


@_metric('a', 'b', 'f')
def qy(a, b, f, window: str = 'ivif_zoo') -> Tensor:
    """Qy (Yang et al. 2008) from same-size SSIM maps with a zero border
    (``data_range = 1`` constants); ``window``: ``'ivif_zoo'`` (7 x 7,
    every row the normalised 1-D Gaussian) or ``'gaussian'`` (the paper's,
    ``sigma = 1.5``)."""
    if window not in ('ivif_zoo', 'gaussian'):
        raise ValueError(f"window must be 'ivif_zoo' or 'gaussian', got "
                         f'{window!r}')
    k, ky = _QY_G, np.ones(7) if window == 'ivif_zoo' else _QY_G
    xs = [_pad(x, 3) for x in (a, b, f)]
    mom = [_moments(x, k, ky) for x in xs]

    def smap(i, j):
        return _ssim_map(xs[i], xs[j], mom[i], mom[j], k, 1.0, 1.0, ky)

    sab, saf, sbf = smap(0, 1), smap(0, 2), smap(1, 2)
    lam = mom[0][2] / (mom[0][2] + mom[1][2] + 1e-10)
    q = torch.where(sab >= 0.75, lam * saf + (1 - lam) * sbf,
                    torch.maximum(saf, sbf))
    return _mean(q)


def _csf(h: int, w: int) -> np.ndarray:
    """The CSF on numpy's FFT grid, as IVIF_ZOO samples it."""
    u = np.fft.fftfreq(h)[:, None] * (h / 30)
    v = np.fft.fftfreq(w)[None, :] * (w / 30)
    r = np.sqrt(u * u + v * v)
    return np.exp(-(r / 15.3870)**2) - 0.7622 * np.exp(-(r / 1.3456)**2)


_T = np.arange(-15, 16, dtype=np.float64)
#: Qcb's unnormalised 31-tap Gaussians (sigma 2, 4) and their divisors
_QCB_G = [(np.exp(-_T * _T / (2 * s * s)), 2 * np.pi * s * s)
          for s in (2.0, 4.0)]


@_metric('a', 'b', 'f')
def qcb(a, b, f) -> Tensor:
    """Qcb (Chen and Blum 2009): min-max normalised images filtered by the
    CSF (FFT), contrast of 31 x 31 Gaussians with a zero border; NaN when
    an image is constant."""
    csf = torch.from_numpy(_csf(*f.shape[1:])).to(f.device)
    (g2, d2), (g4, d4) = _QCB_G

    def contrast(x):
        x = _pad(torch.fft.ifft2(torch.fft.fft2(_minmax(x)[0]) * csf).real,
                 15)
        c = (_sep(x, g2) / d2 / (_sep(x, g4) / d4 + 1e-10) - 1).abs()
        return c**3 / (c**2 + 1e-4)

    ca, cb, cf = contrast(a), contrast(b), contrast(f)
    qa = torch.where(ca < cf, ca / cf, cf / ca)
    qb = torch.where(cb < cf, cb / cf, cf / cb)
    den = ca * ca + cb * cb + 1e-10
    return _mean(ca * ca / den * qa + cb * cb / den * qb)


# ------------------------------------------------------------ presets
def _bound(fn: Callable, bd: Binding) -> Callable:
    kw, div = bd.kwargs, bd.div or 1.0
    if bd.nr:
        return lambda a, b, f: fn(f, **kw) / div
    return lambda a, b, f: fn(a, b, f, **kw) / div


#: ``{preset: {metric: fn(a, b, f)}}``: the functions each preset binds.
PRESET_FNS: Dict[str, Dict[str, Callable]] = {
    p: {m: _bound(globals()[bd.fn], bd)
        for m, bd in table.items()}
    for p, table in PRESET_BINDINGS.items()
}


#: rough CPU cost of each function of a preset (default 1), so that the
#: largest start first and the threads finish together; 0: in the calling
#: thread, after the others (FMI runs on numba's threads)
_CPU_COST = {'fusion_vif': 8, 'qabf': 6, 'nabf': 6, 'qcb': 8, 'qy': 4,
             'fusion_ssim': 3, 'fusion_ms_ssim': 4, 'ivif_zoo_ms_ssim': 4,
             'fusion_mi': 2, 'nmi': 2, 'fmi': 0}
_POOL: list = []    # [(pid, workers, ThreadPoolExecutor)]


def fusion_workers() -> int:
    """The threads :func:`compute_fusion_metrics` spreads the work over on
    the CPU: the cores this process may run on (``os.sched_getaffinity``),
    at most ``torch.get_num_threads()``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, torch.get_num_threads()))


def _pool(workers: int) -> ThreadPoolExecutor:
    """The process's pool of ``workers`` threads, each with one torch
    intra-op thread (made anew after a fork or for another size)."""
    if not _POOL or _POOL[0][:2] != (os.getpid(), workers):
        if _POOL and _POOL[0][0] == os.getpid():
            _POOL[0][2].shutdown(wait=False)
        _POOL[:] = [(os.getpid(), workers, ThreadPoolExecutor(
            workers, thread_name_prefix='fusion_metrics',
            initializer=torch.set_num_threads, initargs=(1, )))]
    return _POOL[0][2]


def _suite_on_cpu(fns: Dict[str, Callable], jobs: list, a: Tensor,
                  b: Tensor, f: Tensor, cost: Dict[str, int],
                  workers: int) -> Dict[tuple, Tensor]:
    """``{(metric, i): value of pair i}``: each job a metric of one pair on
    one torch intra-op thread; this thread and ``workers - 1`` pool threads
    take the jobs from one queue, the costliest first (this thread the
    first: its temporaries come from glibc's main heap, whereas a thread's
    own arena unmaps and page-faults large blocks anew), then this thread
    the jobs of ``cost`` 0 (FMI, on numba's threads). Errors are raised in
    the order of ``jobs``."""
    out: Dict[tuple, Future] = {job: Future() for job in jobs}
    queue = iter(sorted((j for j in jobs if cost[j[0]]),
                        key=lambda j: -cost[j[0]]))
    lock = threading.Lock()

    def run(job):
        m, i = job
        torch.set_num_threads(1)    # (numba's parallel FMI resets it)
        try:
            out[job].set_result(fns[m](a[i:i + 1], b[i:i + 1], f[i:i + 1]))
        except Exception as err:  # raised below, in the jobs' order
            out[job].set_exception(err)

    def drain():
        while True:
            with lock:
                job = next(queue, None)
            if job is None:
                return
            run(job)

    saved = torch.get_num_threads()
    try:
        first = next(queue, None)
        helpers = [_pool(workers - 1).submit(drain)
                   for _ in range(workers - 1)] if first else []
        if first:
            run(first)
            drain()
        wait(helpers)
        for job in jobs:
            if not cost[job[0]]:
                run(job)
        return {job: out[job].result() for job in jobs}
    finally:
        torch.set_num_threads(saved)


def compute_fusion_metrics(a: ArrayLike,
                           b: ArrayLike,
                           f: ArrayLike,
                           preset: str = 'cddfuse',
                           metrics: Optional[Sequence[str]] = None,
                           workers: Optional[int] = None
                           ) -> Dict[str, Union[float, Tensor]]:
    """Fusion metrics with a preset's conventions.

    On the CPU, each metric of each pair is computed with one torch
    intra-op thread, and these jobs are spread over ``workers`` threads:
    a metric's operations are too small for torch's intra-op threads,
    which wait for each other at every operation (the slowest of them
    sets the pace when another process shares the cores). The values do
    not depend on ``workers``. Other devices compute each metric on the
    whole batch.

    Args:
        a, b: sources on the 8-bit scale: one gray image each (2-D array or
            tensor) or batches ``(N, H, W)`` / ``(N, 1, H, W)``.
        f: the fused image(s), same shape.
        preset: a key of
            :data:`~mmfusenas.evaluation.fusion_presets.FUSION_PRESETS`.
        metrics: names, ``'all'`` or ``None`` (the preset's default).
        workers: threads on the CPU (``None``: :func:`fusion_workers`, the
            cores available to the process, at most
            ``torch.get_num_threads()``).

    Returns:
        dict: ``{metric: value}`` in the order requested, floats for single
        images, ``(N,)`` float64 tensors for batches. A metric undefined on
        the images (a correlation with a constant image) is NaN and a PSNR
        with MSE 0 is ``inf``.
    """
    names = resolve_metrics(preset, metrics)
    (a, b, f), single = as_batch((a, b, f), ('a', 'b', 'f'))
    fns = PRESET_FNS[preset]
    if f.device.type == 'cpu':
        jobs = [(m, i) for m in names for i in range(f.shape[0])]
        cost = {m: _CPU_COST.get(PRESET_BINDINGS[preset][m].fn, 1)
                for m in names}
        vals = _suite_on_cpu(
            fns, jobs, a, b, f, cost,
            fusion_workers() if workers is None else max(1, int(workers)))
        out = {m: torch.cat([vals[(m, i)] for i in range(f.shape[0])])
               for m in names}
    else:
        out = {m: fns[m](a, b, f) for m in names}  # each without autograd
    if single:
        return {m: float(v[0]) for m, v in out.items()}
    return out
