"""Batched torch path of the fusion metrics (GPU when present).

Same formulas and preset conventions as
:mod:`mmfusenas.evaluation.functional.fusion` (the numpy path, the
reference), evaluated on a batch ``(N, H, W)`` of 8-bit-scale images in
float64 on any device, so that validation during training need not move
every image to the CPU and loop. Every function returns an ``(N,)``
float64 tensor; :func:`compute_fusion_metrics_torch` gives ``{metric:
(N,) tensor}`` for a preset, computing the four FMI variants (which have
no torch kernels) with the numpy path. VIF, SSIM and MS-SSIM convolve
without padding (the numpy path keeps the 'valid' part); Qabf pads with
zeros and Nabf reflects, as the numpy path does.
"""
import math
from typing import Callable, Dict, Optional, Sequence

import torch
import torch.nn.functional as F

from .fusion import (_MS_WEIGHTS, _QABF_CONST, FUSION_PRESETS, bind_preset,
                     compute_fusion_metrics, qabf_max, resolve_metrics)

__all__ = ['compute_fusion_metrics_torch', 'TORCH_FUSION_FNS']

Tensor = torch.Tensor


def _check(*xs: Tensor) -> Sequence[Tensor]:
    out = []
    for i, x in enumerate(xs):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f'input {i} must be a torch Tensor, got '
                            f'{type(x).__name__}')
        if x.ndim == 4 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 3:
            raise ValueError(f'input {i} must be a batch of gray images '
                             f'(N, H, W) or (N, 1, H, W); got shape '
                             f'{tuple(x.shape)}')
        out.append(x.to(torch.float64))
    shapes = {tuple(x.shape) for x in out}
    if len(shapes) > 1:
        raise ValueError(f'shape mismatch between the inputs: {shapes}')
    return out


# ------------------------------------------------------------ filters
def _gauss1d(n: int, sigma: float, like: Tensor) -> Tensor:
    x = torch.arange(n, dtype=torch.float64, device=like.device) - (n -
                                                                    1) / 2
    g = torch.exp(-x * x / (2.0 * sigma * sigma))
    return g / g.sum()


def _taps_valid(x: Tensor, k: Sequence[float], dim: int) -> Tensor:
    """1-D correlation along ``dim`` (1 or 2 of (N, H, W)), 'valid' part,
    as a sum of shifted slices (float64 ``conv2d`` has no fast CPU
    kernel)."""
    n = len(k)
    m = x.shape[dim] - n + 1
    out = None
    for i, w in enumerate(k):
        if w == 0:
            continue
        if out is None:
            out = x.narrow(dim, i, m) * w
        else:
            out.add_(x.narrow(dim, i, m), alpha=w)
    return out


def _sep_valid(x: Tensor, k: Tensor) -> Tensor:
    """Correlation with ``outer(k, k)``, 'valid' part; ``x`` is (N, H, W)."""
    k = k.tolist()
    return _taps_valid(_taps_valid(x, k, 2), k, 1)


def _box_valid(x: Tensor, n: int) -> Tensor:
    k = [1.0 / n] * n
    return _taps_valid(_taps_valid(x, k, 2), k, 1)


def _filter3(x: Tensor, kernel, pad_mode: str) -> Tensor:
    """3x3 correlation, same size, zero (``'constant'``) or reflect-101
    (``'reflect'``) border."""
    xp = F.pad(x[:, None], (1, 1, 1, 1), mode=pad_mode)[:, 0]
    h, w = x.shape[1:]
    out = None
    for i in range(3):
        for j in range(3):
            if kernel[i][j] == 0:
                continue
            if out is None:
                out = xp[:, i:i + h, j:j + w] * kernel[i][j]
            else:
                out.add_(xp[:, i:i + h, j:j + w], alpha=kernel[i][j])
    return out


def _mean(x: Tensor) -> Tensor:
    return x.flatten(1).mean(1)


def _sum(x: Tensor) -> Tensor:
    return x.flatten(1).sum(1)


# ------------------------------------------------------------ statistics
def entropy(f: Tensor, base: float = 2.0) -> Tensor:
    n = f.shape[0]
    q = f.round().clamp(0, 255).long().flatten(1)
    q = q + 256 * torch.arange(n, device=f.device)[:, None]
    p = torch.bincount(q.flatten(), minlength=256 * n).view(n, 256)
    p = p.to(torch.float64) / q.shape[1]
    t = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, 1.0)), 0.0)
    return 0.0 - t.sum(1) / math.log(base)    # 0.0, not -0.0, if constant


def standard_deviation(f: Tensor, mode: str = 'population') -> Tensor:
    d = f - _mean(f)[:, None, None]
    if mode == 'population':
        return torch.sqrt(_mean(d * d))
    if mode == 'matlab_uint8':
        d = torch.sign(d) * torch.floor(d.abs() + 0.5)
        d = d.clamp(0, 255)
        return torch.sqrt(_sum(torch.clamp(d * d, max=255)) / d[0].numel())
    raise ValueError(f"SD mode must be 'population' or 'matlab_uint8', "
                     f'got {mode!r}')


def spatial_frequency(f: Tensor, divisor: str = 'mean') -> Tensor:
    dx2 = (f[:, :, 1:] - f[:, :, :-1])**2
    dy2 = (f[:, 1:] - f[:, :-1])**2
    if divisor == 'mean':
        return torch.sqrt(_mean(dx2) + _mean(dy2))
    if divisor == 'mn':
        return torch.sqrt((_sum(dx2) + _sum(dy2)) / f[0].numel())
    raise ValueError(f"SF divisor must be 'mean' or 'mn', got {divisor!r}")


def average_gradient(f: Tensor, divisor: str = 'mn') -> Tensor:
    gy, gx = torch.gradient(f, dim=(1, 2))
    s = _sum(torch.sqrt((gx * gx + gy * gy) / 2.0))
    h, w = f.shape[1:]
    if divisor == 'mn':
        return s / (h * w)
    if divisor == 'm1n1':
        return s / ((h - 1) * (w - 1))
    raise ValueError(f"AG divisor must be 'mn' or 'm1n1', got {divisor!r}")


def _levels(x: Tensor, quantize: str) -> Tensor:
    if quantize == 'round':
        return x.round().clamp(0, 255).long()
    if quantize == 'minmax':
        lo = x.flatten(1).amin(1)[:, None, None]
        hi = x.flatten(1).amax(1)[:, None, None]
        rng = hi - lo
        y = torch.where(rng != 0, (x - lo) / torch.where(rng != 0, rng, 1.0),
                        0.0) * 255
        return (torch.sign(y) * torch.floor(y.abs() + 0.5)).long()
    raise ValueError(f"MI quantize must be 'round' or 'minmax', "
                     f'got {quantize!r}')


def mutual_information(x: Tensor, y: Tensor, base: float = math.e,
                       quantize: str = 'round') -> Tensor:
    n = x.shape[0]
    qx, qy = _levels(x, quantize).flatten(1), _levels(y, quantize).flatten(1)
    idx = qx * 256 + qy + 65536 * torch.arange(n, device=x.device)[:, None]
    joint = torch.bincount(idx.flatten(), minlength=65536 * n).view(
        n, 256, 256).to(torch.float64) / qx.shape[1]
    px, py = joint.sum(2), joint.sum(1)
    outer = px[:, :, None] * py[:, None, :]
    nz = joint > 0
    t = torch.where(nz, joint * torch.log(
        torch.where(nz, joint, 1.0) / torch.where(nz, outer, 1.0)), 0.0)
    return t.flatten(1).sum(1).clamp(min=0.0) / math.log(base)


def fusion_mi(a, b, f, base=math.e, quantize='round') -> Tensor:
    return (mutual_information(a, f, base, quantize) +
            mutual_information(b, f, base, quantize))


# ------------------------------------------------------------ VIF
def _vif_scales(x: Tensor) -> list:
    out = []
    for scale in range(1, 5):
        n = 2**(4 - scale + 1) + 1
        k = _gauss1d(n, n / 5.0, x)
        if scale > 1:
            x = _sep_valid(x, k)[:, ::2, ::2]
        if min(x.shape[1:]) < n:
            raise ValueError(f'VIF needs images of at least 41x41 pixels '
                             f'(4 scales); scale {scale} has shape '
                             f'{tuple(x.shape[1:])}')
        mu = _sep_valid(x, k)
        var = (_sep_valid(x * x, k) - mu * mu).clamp(min=0)
        out.append((k, x, mu, var))
    return out


def _vif_from(ref_scales: list, dist_scales: list,
              sigma_nsq: float) -> Tensor:
    eps = 1e-10
    num = den = 0.0
    for (k, ref, mu1, s1), (_, dist, mu2, s2) in zip(ref_scales,
                                                     dist_scales):
        s12 = _sep_valid(ref * dist, k) - mu1 * mu2
        g = s12 / (s1 + eps)
        sv = s2 - g * s12
        m = s1 < eps
        g = torch.where(m, 0.0, g)
        sv = torch.where(m, s2, sv)
        s1 = torch.where(m, 0.0, s1)
        m = s2 < eps
        g = torch.where(m, 0.0, g)
        sv = torch.where(m, 0.0, sv)
        m = g < 0
        sv = torch.where(m, s2, sv)
        g = torch.where(m, 0.0, g)
        sv = sv.clamp(min=eps)      # sv <= eps -> eps
        num = num + _sum(torch.log10(1 + g * g * s1 / (sv + sigma_nsq)))
        den = den + _sum(torch.log10(1 + s1 / sigma_nsq))
    v = num / den
    return torch.where(torch.isnan(v), 1.0, v)


def fusion_vif(a: Tensor, b: Tensor, f: Tensor) -> Tensor:
    fs = _vif_scales(f)
    return _vif_from(_vif_scales(a), fs, 2.0) + _vif_from(
        _vif_scales(b), fs, 2.0)


# ------------------------------------------------------------ Qabf / Nabf
_SOBEL_Y = [[1., 2., 1.], [0., 0., 0.], [-1., -2., -1.]]
_SOBEL_X = [[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]]


def _qabf_edges(x: Tensor):
    sx = _filter3(x, _SOBEL_X, 'constant')
    sy = _filter3(x, _SOBEL_Y, 'constant')
    g = torch.sqrt(sx * sx + sy * sy)
    ang = torch.where(sx == 0, math.pi / 2,
                      torch.atan(sy / torch.where(sx == 0, 1.0, sx)))
    return g, ang


def _qabf_q(gx, ax, gf, af, equal_rule: str) -> Tensor:
    c = _QABF_CONST
    if equal_rule not in ('reference', 'one'):
        raise ValueError(f"Qabf equal_rule must be 'reference' or 'one', "
                         f'got {equal_rule!r}')
    ratio = torch.where(gx > gf, gf / torch.where(gx > gf, gx, 1.0),
                        gx / torch.where(gf != 0, gf, 1.0))
    ratio = torch.where(gx == gf, gf if equal_rule == 'reference' else 1.0,
                        ratio)
    aaf = 1 - (ax - af).abs() / (math.pi / 2)
    qg = c['Tg'] / (1 + torch.exp(c['kg'] * (ratio - c['Dg'])))
    return qg * (c['Ta'] / (1 + torch.exp(c['ka'] * (aaf - c['Da']))))


def qabf(a, b, f, scale: float = 1.0, equal_rule: str = 'reference',
         normalize: bool = False) -> Tensor:
    (ga, aa), (gb, ab), (gf, af) = (_qabf_edges(x) for x in (a, b, f))
    if scale != 1:
        ga, gb, gf = ga * scale, gb * scale, gf * scale
    qaf = _qabf_q(ga, aa, gf, af, equal_rule)
    qbf = _qabf_q(gb, ab, gf, af, equal_rule)
    if normalize:
        qaf, qbf = qaf / qabf_max(), qbf / qabf_max()
    den = _sum(ga + gb)
    if bool((den == 0).any()):
        raise ValueError('Qabf is undefined: both sources have no edges')
    return _sum(qaf * ga + qbf * gb) / den


def nabf(a, b, f, scale: float = 1.0) -> Tensor:
    vt = [[v / 8 for v in r] for r in _SOBEL_X]
    ht = [[-v / 8 for v in r] for r in _SOBEL_Y]

    def edges(x):
        if scale != 1:
            x = x * scale
        gv = _filter3(x, vt, 'reflect')
        gh = _filter3(x, ht, 'reflect')
        g = torch.sqrt(gv * gv + gh * gh)
        zero = (gv == 0) & (gh == 0)
        ang = torch.where(zero, 0.0, torch.atan(gv / torch.where(
            gh == 0, 0.0, gh)))
        return g, ang

    (ga, aa), (gb, ab), (gf, af) = (edges(x) for x in (a, b, f))

    def q(gx, ax):
        r = torch.where(gx > gf, gf / torch.where(gx > gf, gx, 1.0),
                        gx / torch.where(gf != 0, gf, 1.0))
        r = torch.where((gx == 0) | (gf == 0), 0.0, r)
        ang = ((ax - af).abs() - math.pi / 2).abs() * 2 / math.pi
        qg = 0.9999 / (1 + torch.exp(-19 * (r - 0.5)))
        return torch.sqrt(qg * (0.9995 / (1 + torch.exp(-22 * (ang - 0.5)))))

    def weight(g):
        return torch.where(g >= 2, g.clamp(min=0)**1.5, 0.001)

    qaf, qbf = q(ga, aa), q(gb, ab)
    wa, wb = weight(ga), weight(gb)
    na = (gf > ga) & (gf > gb)
    num = torch.where(na, (1 - qaf) * wa + (1 - qbf) * wb, 0.0)
    return _sum(num) / _sum(wa + wb)


# ------------------------------------------------------------ correlation
def _corr(x: Tensor, y: Tensor) -> Tensor:
    xm = x - _mean(x)[:, None, None]
    ym = y - _mean(y)[:, None, None]
    den = torch.sqrt(_sum(xm * xm) * _sum(ym * ym))
    return torch.where(den == 0, float('nan'),
                       _sum(xm * ym) / torch.where(den == 0, 1.0, den))


def cc(a, b, f) -> Tensor:
    return (_corr(a, f) + _corr(b, f)) / 2


def scd(a, b, f) -> Tensor:
    return _corr(f - b, a) + _corr(f - a, b)


def fusion_psnr(a, b, f, peak: str = 'max_f',
                mse_mode: str = 'mean') -> Tensor:
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
def _ssim_filter(mode: str, shape) -> (Callable, float):
    if mode == 'gaussian':
        if min(shape) < 11:
            raise ValueError(f'SSIM needs images of at least 11x11, got '
                             f'{tuple(shape)}')
        return (lambda z: _sep_valid(z, _gauss1d(11, 1.5, z))), 1.0
    if mode == 'skimage':
        if min(shape) < 7:
            raise ValueError(f'SSIM needs images of at least 7x7, got '
                             f'{tuple(shape)}')
        return (lambda z: _box_valid(z, 7)), 49.0 / 48.0
    raise ValueError(f"SSIM mode must be 'gaussian' or 'skimage', "
                     f'got {mode!r}')


def _ssim(x, y, filt, cov_norm, data_range) -> Tensor:
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    mx, my = filt(x), filt(y)
    vx = (filt(x * x) - mx * mx) * cov_norm
    vy = (filt(y * y) - my * my) * cov_norm
    vxy = (filt(x * y) - mx * my) * cov_norm
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / (
        (mx * mx + my * my + c1) * (vx + vy + c2))
    return _mean(s)


def fusion_ssim(a, b, f, mode: str = 'gaussian',
                data_range: float = 255.0) -> Tensor:
    filt, cov_norm = _ssim_filter(mode, f.shape[1:])
    return (_ssim(a, f, filt, cov_norm, data_range) +
            _ssim(b, f, filt, cov_norm, data_range))


def _ms_ssim(x, y, data_range: float = 255.0) -> Tensor:
    if min(x.shape[1:]) < 11 * 16:
        raise ValueError(f'MS-SSIM needs images of at least 176x176, got '
                         f'{tuple(x.shape[1:])}')
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    k = _gauss1d(11, 1.5, x)
    val = torch.ones(x.shape[0], dtype=torch.float64, device=x.device)
    for j, w in enumerate(_MS_WEIGHTS.tolist()):
        if j:
            x = F.avg_pool2d(x[:, None], 2)[:, 0]
            y = F.avg_pool2d(y[:, None], 2)[:, 0]
        mx, my = _sep_valid(x, k), _sep_valid(y, k)
        vx = _sep_valid(x * x, k) - mx * mx
        vy = _sep_valid(y * y, k) - my * my
        vxy = _sep_valid(x * y, k) - mx * my
        cs = _mean((2 * vxy + c2) / (vx + vy + c2))
        val = val * cs.clamp(min=0)**w
        if j == len(_MS_WEIGHTS) - 1:
            lum = _mean((2 * mx * my + c1) / (mx * mx + my * my + c1))
            val = val * lum.clamp(min=0)**w
    return val


def fusion_ms_ssim(a, b, f) -> Tensor:
    return (_ms_ssim(a, f) + _ms_ssim(b, f)) / 2


# ------------------------------------------------------------ presets
#: ``{preset: {metric: fn(a, b, f) -> (N,) tensor}}``, the torch twins of
#: ``FUSION_PRESETS[preset]['fns']``, bound from the same table
#: (:data:`~.fusion.PRESET_BINDINGS`); the FMI variants have no twin.
TORCH_FUSION_FNS: Dict[str, Dict[str, Callable]] = {
    p: bind_preset(globals(), p)
    for p in FUSION_PRESETS
}


def compute_fusion_metrics_torch(
        a: Tensor,
        b: Tensor,
        f: Tensor,
        preset: str = 'cddfuse',
        metrics: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
    """Fusion metrics of a batch with a preset's conventions.

    Args:
        a, b: sources, ``(N, H, W)`` or ``(N, 1, H, W)`` tensors on the
            8-bit scale ``[0, 255]`` (any dtype; computed in float64 on
            their device).
        f: fused images, same shape.
        preset: ``'cddfuse'``, ``'tang'``, ``'vifb'`` or ``'ivif_zoo'``
            (no torch twins: computed by the numpy path).
        metrics: names, ``'all'`` or ``None`` (the preset's default).

    Returns:
        dict: ``{metric: (N,) float64 tensor}`` in the order requested; FMI
        variants are computed by the numpy path (see the module docstring).
    """
    names = resolve_metrics(preset, metrics)
    a, b, f = _check(a, b, f)
    fns = TORCH_FUSION_FNS[preset]
    out = {}
    cpu = [m for m in names if m not in fns]        # FMI variants
    if cpu:
        an, bn, fn = (x.detach().cpu().numpy() for x in (a, b, f))
        vals = [compute_fusion_metrics(an[i], bn[i], fn[i], preset, cpu)
                for i in range(f.shape[0])]
        for m in cpu:
            out[m] = torch.tensor([v[m] for v in vals], dtype=torch.float64,
                                  device=f.device)
    with torch.no_grad():
        for m in names:
            if m not in out:
                out[m] = fns[m](a, b, f)
    return {m: out[m] for m in names}
