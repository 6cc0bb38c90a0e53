"""Re-implementation of the widely used Python fusion ``Evaluator`` (timing
reference for ``benchmarks/bench_fusion_metrics.py --reference`` and for the
fusion-kernel tests; not used by the toolbox's own metrics).

The public MMIF evaluators (``utils/Evaluator.py`` of
Zhaozixiang1228/MMIF-CDDFuse and its forks) compute each metric with its
own numpy / scipy / scikit-image / scikit-learn calls. This module rewrites
those algorithms (not their code) with numpy / scipy only: ``EN``, ``SD``,
``SF``, ``AG``, ``MI``, ``MSE``, ``CC``, ``PSNR``, ``SCD``, ``VIF``,
``Qabf``, ``Nabf``, ``SSIM``, ``MS_SSIM`` (:data:`FUNCS`) and the
window-loop FMI port :func:`fmi_reference`, whose feature maps come from
:func:`mmfusenas.evaluation.functional.fmi_kernel.fmi_features`. Values agree
with the toolbox's ``cddfuse`` preset.
"""
import importlib
import math

import numpy as np
import scipy.sparse as sp
from scipy.ndimage import uniform_filter
from scipy.signal import convolve2d

fmi_mod = importlib.import_module('mmfusenas.evaluation.functional.fmi_kernel')

_SOBEL_V = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float32)
_SOBEL_H = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)


# ------------------------------------------------------------ no-reference
def EN(f):
    a = np.uint8(np.round(f)).flatten()
    h = np.bincount(a) / a.shape[0]
    return -sum(h * np.log2(h + (h == 0)))      # builtin sum, as published


def SD(f):
    return np.std(f)


def SF(f):
    return np.sqrt(np.mean((f[:, 1:] - f[:, :-1])**2) +
                   np.mean((f[1:, :] - f[:-1, :])**2))


def AG(f):
    gx, gy = np.zeros_like(f), np.zeros_like(f)
    gx[:, 0] = f[:, 1] - f[:, 0]
    gx[:, -1] = f[:, -1] - f[:, -2]
    gx[:, 1:-1] = (f[:, 2:] - f[:, :-2]) / 2
    gy[0, :] = f[1, :] - f[0, :]
    gy[-1, :] = f[-1, :] - f[-2, :]
    gy[1:-1, :] = (f[2:, :] - f[:-2, :]) / 2
    return np.mean(np.sqrt((gx**2 + gy**2) / 2))


# ------------------------------------------------------------ MI
def _mutual_info_score(x, y):
    _, ix = np.unique(x, return_inverse=True)
    _, iy = np.unique(y, return_inverse=True)
    c = sp.coo_matrix((np.ones(ix.shape[0], np.int64), (ix, iy)),
                      shape=(ix.max() + 1, iy.max() + 1)).tocsr()
    c.sum_duplicates()
    nzx, nzy, nz = sp.find(c)
    total = c.sum()
    pi = np.ravel(c.sum(axis=1))
    pj = np.ravel(c.sum(axis=0))
    log_nm = np.log(nz)
    nm = nz / total
    outer = pi.take(nzx).astype(np.int64, copy=False) * pj.take(nzy).astype(
        np.int64, copy=False)
    log_outer = -np.log(outer) + math.log(pi.sum()) + math.log(pj.sum())
    mi = nm * (log_nm - math.log(total)) + nm * log_outer
    mi = np.where(np.abs(mi) < np.finfo(mi.dtype).eps, 0.0, mi)
    return float(np.clip(mi.sum(), 0.0, None))


def MI(a, b, f):
    return (_mutual_info_score(f.flatten(), a.flatten()) +
            _mutual_info_score(f.flatten(), b.flatten()))


# ------------------------------------------------------------ simple ones
def MSE(a, b, f):
    return (np.mean((a - f)**2) + np.mean((b - f)**2)) / 2


def _r(x, y):
    return np.sum((x - np.mean(x)) * (y - np.mean(y))) / np.sqrt(
        np.sum((x - np.mean(x))**2) * np.sum((y - np.mean(y))**2))


def CC(a, b, f):
    return (_r(a, f) + _r(b, f)) / 2


def PSNR(a, b, f):
    return 10 * np.log10(np.max(f)**2 / MSE(a, b, f))


def SCD(a, b, f):
    return _r(a, f - b) + _r(b, f - a)


# ------------------------------------------------------------ VIF
def _viff(ref, dist):
    sigma_nsq, eps = 2, 1e-10
    num = den = 0.0
    for scale in range(1, 5):
        n = 2**(4 - scale + 1) + 1
        sd = n / 5.0
        m = (n - 1.) / 2.
        y, x = np.ogrid[-m:m + 1, -m:m + 1]
        h = np.exp(-(x * x + y * y) / (2. * sd * sd))
        h[h < np.finfo(h.dtype).eps * h.max()] = 0
        win = np.rot90(h / h.sum(), 2)
        if scale > 1:
            ref = convolve2d(ref, win, mode='valid')[::2, ::2]
            dist = convolve2d(dist, win, mode='valid')[::2, ::2]
        mu1 = convolve2d(ref, win, mode='valid')
        mu2 = convolve2d(dist, win, mode='valid')
        s1 = convolve2d(ref * ref, win, mode='valid') - mu1 * mu1
        s2 = convolve2d(dist * dist, win, mode='valid') - mu2 * mu2
        s12 = convolve2d(ref * dist, win, mode='valid') - mu1 * mu2
        s1[s1 < 0] = 0
        s2[s2 < 0] = 0
        g = s12 / (s1 + eps)
        sv = s2 - g * s12
        g[s1 < eps] = 0
        sv[s1 < eps] = s2[s1 < eps]
        s1[s1 < eps] = 0
        g[s2 < eps] = 0
        sv[s2 < eps] = 0
        sv[g < 0] = s2[g < 0]
        g[g < 0] = 0
        sv[sv <= eps] = eps
        num += np.sum(np.log10(1 + g * g * s1 / (sv + sigma_nsq)))
        den += np.sum(np.log10(1 + s1 / sigma_nsq))
    v = num / den
    return 1.0 if np.isnan(v) else v


def VIF(a, b, f):
    return _viff(a, f) + _viff(b, f)


# ------------------------------------------------------------ Qabf
def _qabf_array(img):
    sx = convolve2d(img, _SOBEL_H, mode='same')
    sy = convolve2d(img, _SOBEL_V, mode='same')
    g = np.sqrt(sx * sx + sy * sy)
    ang = np.zeros_like(img)
    ang[sx == 0] = math.pi / 2
    ang[sx != 0] = np.arctan(sy[sx != 0] / sx[sx != 0])
    return g, ang


def _qabf_q(ax, gx, af, gf):
    gaf = np.zeros_like(ax)
    gaf[gx > gf] = gf[gx > gf] / gx[gx > gf]
    gaf[gx == gf] = gf[gx == gf]
    gaf[gx < gf] = gx[gx < gf] / gf[gx < gf]
    aaf = 1 - np.abs(ax - af) / (math.pi / 2)
    qg = 0.9994 / (1 + np.exp(-15 * (gaf - 0.5)))
    qa = 0.9879 / (1 + np.exp(-22 * (aaf - 0.8)))
    return qg * qa


def Qabf(a, b, f):
    ga, aa = _qabf_array(a)
    gb, ab = _qabf_array(b)
    gf, af = _qabf_array(f)
    qaf, qbf = _qabf_q(aa, ga, af, gf), _qabf_q(ab, gb, af, gf)
    return np.sum(qaf * ga + qbf * gb) / np.sum(ga + gb)


# ------------------------------------------------------------ Nabf
def _per_ext(x):
    p, q = x.shape
    out = np.zeros((p + 2, q + 2))
    out[1:p + 1, 1:q + 1] = x
    out[0, :] = out[2, :]
    out[p + 1, :] = out[-3, :]
    out[:, 0] = out[:, 2]
    out[:, q + 1] = out[:, -3]
    return out


def _sobel8(x):
    v = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8
    h = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]) / 8
    xe = _per_ext(x)
    return convolve2d(xe, v, mode='valid'), convolve2d(xe, h, mode='valid')


def Nabf(a, b, f):
    gva, gha = _sobel8(a)
    gvb, ghb = _sobel8(b)
    gvf, ghf = _sobel8(f)
    ga, gb, gf = (np.sqrt(h**2 + v**2)
                  for v, h in ((gva, gha), (gvb, ghb), (gvf, ghf)))
    with np.errstate(divide='ignore', invalid='ignore'):
        gaf = np.zeros(ga.shape)
        gbf = np.zeros(gb.shape)
        m1 = (ga == 0) | (gf == 0)
        gaf[~m1] = np.where(ga > gf, gf / ga, ga / gf)[~m1]
        m1 = (gb == 0) | (gf == 0)
        gbf[~m1] = np.where(gb > gf, gf / gb, gb / gf)[~m1]
        aa = np.where((gva == 0) & (gha == 0), 0, np.arctan(gva / gha))
        ab = np.where((gvb == 0) & (ghb == 0), 0, np.arctan(gvb / ghb))
        af = np.where((gvf == 0) & (ghf == 0), 0, np.arctan(gvf / ghf))
    aaf = np.abs(np.abs(aa - af) - np.pi / 2) * 2 / np.pi
    abf = np.abs(np.abs(ab - af) - np.pi / 2) * 2 / np.pi
    qaf = np.sqrt(0.9999 / (1 + np.exp(-19 * (gaf - 0.5))) * 0.9995 /
                  (1 + np.exp(-22 * (aaf - 0.5))))
    qbf = np.sqrt(0.9999 / (1 + np.exp(-19 * (gbf - 0.5))) * 0.9995 /
                  (1 + np.exp(-22 * (abf - 0.5))))
    # the published weights (0.001 below the threshold, as the toolbox)
    wa = np.where(ga >= 2, ga**1.5, 0.001)
    wb = np.where(gb >= 2, gb**1.5, 0.001)
    na = np.where((gf > ga) & (gf > gb), 1, 0)
    return np.sum(na * ((1 - qaf) * wa + (1 - qbf) * wb)) / np.sum(wa + wb)


# ------------------------------------------------------------ SSIM
def _ssim_skimage(x, y, data_range=2.0):
    win, ndim = 7, 2
    np_ = win**ndim
    cov_norm = np_ / (np_ - 1)
    ux = uniform_filter(x, size=win)
    uy = uniform_filter(y, size=win)
    uxx = uniform_filter(x * x, size=win)
    uyy = uniform_filter(y * y, size=win)
    uxy = uniform_filter(x * y, size=win)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    a1, a2 = 2 * ux * uy + c1, 2 * vxy + c2
    b1, b2 = ux**2 + uy**2 + c1, vx + vy + c2
    s = (a1 * a2) / (b1 * b2)
    pad = (win - 1) // 2
    return s[pad:-pad, pad:-pad].mean(dtype=np.float64)


def SSIM(a, b, f):
    return _ssim_skimage(f, a) + _ssim_skimage(f, b)


def _msssim(x, y, L=255.0):
    w = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
    g = np.arange(11) - 5.0
    g = np.exp(-(g[:, None]**2 + g[None]**2) / (2 * 1.5**2))
    win = g / g.sum()
    c1, c2 = (0.01 * L)**2, (0.03 * L)**2
    mcs = []
    for j in range(5):
        mu1 = convolve2d(x, win, mode='valid')
        mu2 = convolve2d(y, win, mode='valid')
        s1 = convolve2d(x * x, win, mode='valid') - mu1 * mu1
        s2 = convolve2d(y * y, win, mode='valid') - mu2 * mu2
        s12 = convolve2d(x * y, win, mode='valid') - mu1 * mu2
        cs = np.mean((2 * s12 + c2) / (s1 + s2 + c2))
        mcs.append(max(cs, 0.0))
        if j == 4:
            lum = np.mean((2 * mu1 * mu2 + c1) / (mu1**2 + mu2**2 + c1))
        else:
            d = np.ones((2, 2)) / 4
            x = convolve2d(x, d, mode='valid')[::2, ::2]
            y = convolve2d(y, d, mode='valid')[::2, ::2]
    return float(np.prod(np.array(mcs)**w) * max(lum, 0.0)**w[-1])


def MS_SSIM(a, b, f):
    return (_msssim(a, f) + _msssim(b, f)) / 2


# ------------------------------------------------------------ FMI
def _fmi_window(xw, fw):
    """fmi.m for one window pair (column-major vectors of length l)."""
    l = xw.size  # noqa: E741 (fmi.m's name)
    if np.array_equal(xw, fw):
        return 1.0, fw
    xn = (xw - xw.min()) / (xw.max() - xw.min()) if xw.max() != xw.min() \
        else np.ones(l)
    fn = (fw - fw.min()) / (fw.max() - fw.min()) if fw.max() != fw.min() \
        else np.ones(l)
    xp, fp = xn / xn.sum(), fn / fn.sum()
    xc, fc = np.cumsum(xp), np.cumsum(fp)
    xt, ft = xp - xp.mean(), fp - fp.mean()
    xt[np.abs(xt) < 1e-12] = 0
    ft[np.abs(ft) < 1e-12] = 0
    num = np.sum(xt * ft)
    den = np.sqrt(np.sum(xt * xt) * np.sum(ft * ft))
    c = 0.0 if abs(num) < 1e-12 or den == 0 else num / den
    idx = np.arange(1, l + 1)
    xsd = math.sqrt(max(np.sum(idx * idx * xp) - np.sum(idx * xp)**2, 0))
    fsd = math.sqrt(max(np.sum(idx * idx * fp) - np.sum(idx * fp)**2, 0))
    F, X = np.meshgrid(fc, xc, indexing='ij')
    C = np.minimum(F, X) if c >= 0 else np.maximum(F + X - 1, 0)
    cov = np.sum(C) - np.sum(fc) * np.sum(xc)
    k = c * fsd * xsd / cov if cov != 0 and c != 0 and fsd * xsd != 0 \
        else 0.0
    if not np.isfinite(k):
        k = 0.0
    dC = np.diff(np.diff(np.pad(C, ((1, 0), (1, 0))), axis=0), axis=1)
    jp = k * dC + (1 - k) * np.outer(fp, xp)
    jent = -np.sum(jp * np.log2(np.maximum(np.abs(jp), 1e-300)))
    xe = -np.sum(xp * np.log2(np.maximum(xp, 1e-300)))
    fe = -np.sum(fp * np.log2(np.maximum(fp, 1e-300)))
    mi = xe + fe - jent
    return (0.0 if mi == 0 else 2 * mi / (xe + fe)), fn


def fmi_reference(a, b, f, feature='none', w=3, rows=None):
    """Mean FMI over windows, looping over windows in Python.

    Returns ``(value over the rows done, seconds, fraction of the window
    rows done)``; with ``rows`` only that many window rows (from the top)
    are evaluated.
    """
    import time
    t0 = time.perf_counter()
    fa, fb, ff = (fmi_mod.fmi_features(np.asarray(x, np.float64), feature)
                  for x in (a, b, f))
    h, wd = ff.shape
    nr = h - w + 1
    todo = nr if rows is None else min(rows, nr)
    acc, n = 0.0, 0
    for i in range(todo):
        for j in range(wd - w + 1):
            aw = fa[i:i + w, j:j + w].ravel('F')
            bw = fb[i:i + w, j:j + w].ravel('F')
            fw = ff[i:i + w, j:j + w].ravel('F')
            qa, fw2 = _fmi_window(aw, fw)
            # the in-place quirk of fmi.m: B is compared with the F window
            # as normalised by the A pass
            qb = 1.0 if np.array_equal(bw, fw2) else _fmi_window(bw, fw)[0]
            acc += (qa + qb) / 2
            n += 1
    return acc / n, time.perf_counter() - t0, todo / nr


FUNCS = {
    'EN': lambda a, b, f: EN(f),
    'SD': lambda a, b, f: SD(f),
    'SF': lambda a, b, f: SF(f),
    'AG': lambda a, b, f: AG(f),
    'MI': MI,
    'VIF': VIF,
    'Qabf': Qabf,
    'Nabf': Nabf,
    'SCD': SCD,
    'SSIM': SSIM,
    'MS_SSIM': MS_SSIM,
    'CC': CC,
    'PSNR': PSNR,
}
FMI_FEATURES = {'FMI_pixel': 'none', 'FMI_gradient': 'gradient',
                'FMI_dct': 'dct', 'FMI_wavelet': 'wavelet'}
