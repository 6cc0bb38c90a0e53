"""Compiled per-pixel kernels of the fusion metrics (optional, numba).

The kernels evaluate the per-pixel formulas of VIF, Qabf, Nabf and SSIM of
:mod:`.fusion` in one pass, with the operands and the operation order of
the numpy chains (``fastmath`` off, ``error_model='numpy'``) and
branch-free ports of ``exp``, ``atan`` and ``log2``; the caller sums their
per-pixel maps (:func:`map_sums`); the Gaussian windows are OpenCV's
separable filters (:mod:`.fusion`). The kernels compile on first use with
``cache=True``; without numba, or with :data:`USE_NUMBA` ``= False``,
:func:`kernels` returns None and the metrics use their numpy chains.
"""
import math
import threading
from typing import Optional

import numpy as np

from mmfusenas.utils.numba_kernels import compile_once
from .fmi import bitcast_intrinsics
from .fmi import _nb_log2 as _fmi_log2

__all__ = ['USE_NUMBA', 'kernels', 'map_sums']

#: Use the compiled kernels when numba is importable (read at call time);
#: ``False`` forces the numpy chains.
USE_NUMBA = True
_KERNELS = []       # [namespace] once compiled, [None] if unusable
_LOCK = threading.Lock()
_f2i = _i2f = _log2 = None   # set by :class:`_Kernels`



# --------------------------------------------------------------------------
# kernels (plain Python here; compiled by :func:`kernels`)
# --------------------------------------------------------------------------
def _sel(m, a, b):
    return a if m else b


def _vexp(x):
    """``exp(x)`` for the Qabf arguments, branch-free so that the loop
    vectorises (FreeBSD ``e_exp.c``, < 1 ulp). Arguments are clamped to
    ``[-708, 709]``: below, libm's result (< 3.4e-308) vanishes next to the
    1 it is added to in Qabf; above 709.78 the result is inf, as libm's."""
    xc = min(max(x, -708.0), 709.0)
    t = xc * 1.44269504088896338700e+00 + 6755399441055744.0
    k = t - 6755399441055744.0          # round(x / ln 2), exactly
    hi = xc - k * 6.93147180369123816490e-01
    lo = k * 1.90821492927058770002e-10
    r = hi - lo
    z = r * r
    c = r - z * (1.66666666666666019037e-01 + z * (
        -2.77777777770155933842e-03 + z * (6.61375632143793436117e-05 + z * (
            -1.65339022054652515390e-06 + z * 4.13813679705723846039e-08))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    # 2^k from the low bits of t (k in [-1022, 1023])
    two_k = _i2f(((_f2i(t) - 0x4338000000000000) + 1023) << 52)
    return _sel(x > 709.782712893384, math.inf, y * two_k)


def _vatan(x):
    """``atan(x)``, branch-free (Cephes ``atan.c``, ~1 ulp); ``atan(+-inf)
    = +-pi/2``, NaN stays NaN."""
    ax = abs(x)
    big = ax > 2.41421356237309504880       # tan(3 pi / 8)
    mid = ax > 0.66
    # -1 / ax, (ax - 1) / (ax + 1) or ax / 1, with one division
    xr = _sel(big, -1.0, _sel(mid, ax - 1.0, ax)) / _sel(
        big, ax, _sel(mid, ax + 1.0, 1.0))
    y0 = _sel(big, 1.5707963267948966, _sel(mid, 0.7853981633974483, 0.0))
    more = _sel(big, 6.123233995736765886130e-17,
                _sel(mid, 3.061616997868382943065e-17, 0.0))
    z = xr * xr
    p = (((-8.750608600031904122785e-01 * z - 1.615753718733365076637e+01) *
          z - 7.500855792314704667340e+01) * z -
         1.228866684490136173410e+02) * z - 6.485021904942025371773e+01
    q = ((((z + 2.485846490142306297962e+01) * z +
           1.650270098316988542046e+02) * z + 4.328810604912902668951e+02) *
         z + 4.853903996359136964868e+02) * z + 1.945506571482613964425e+02
    z = z * p / q
    z = xr * z + xr
    y = y0 + (z + more)
    return _sel(x < 0, -y, y)


def _vif_map(s12f, mu1f, q1f, mu2f, q2f, sigma_nsq, num, den):
    """One VIF scale, per pixel of the 'valid' filter outputs ``G(ref
    dist)``, ``G(ref)``, ``G(ref^2)``, ``G(dist)``, ``G(dist^2)``: ``num``
    = ``log2(1 + g^2 s1 / (sv + sigma_nsq))``, ``den`` = ``log2(1 + s1 /
    sigma_nsq)``, with the local variances ``s = max(G(x^2) - G(x)^2,
    0)``; the chain of ``fusion._vif_moments`` and ``fusion._vif_chain``
    (same operands and order; branch-free so that it vectorises; the
    inputs are 'valid' arrays, indexed without an offset, see
    :func:`_ssim_map`)."""
    eps = 1e-10
    h, w = num.shape
    for i in range(h):
        for j in range(w):
            m1 = mu1f[i, j]
            m2 = mu2f[i, j]
            v1 = max(q1f[i, j] - m1 * m1, 0.0)
            v2 = max(q2f[i, j] - m2 * m2, 0.0)
            s12 = s12f[i, j] - m1 * m2
            g = s12 / (v1 + eps)
            sv = v2 - g * s12
            low1 = v1 < eps
            g = _sel(low1, 0.0, g)
            sv = _sel(low1, v2, sv)
            v1 = _sel(low1, 0.0, v1)
            low2 = v2 < eps
            g = _sel(low2, 0.0, g)
            sv = _sel(low2, 0.0, sv)
            neg = g < 0
            sv = _sel(neg, v2, sv)
            g = _sel(neg, 0.0, g)
            sv = _sel(sv <= eps, eps, sv)
            num[i, j] = _log2(g * g * v1 / (sv + sigma_nsq) + 1)
            den[i, j] = _log2(v1 / sigma_nsq + 1)


def _edge(sx, sy):
    """Qabf edge strength and orientation of one pixel:
    ``sqrt(sx^2 + sy^2)``, ``pi/2 if sx == 0 else atan(sy / sx)``."""
    g = math.sqrt(sx * sx + sy * sy)
    return g, _sel(sx == 0, 1.5707963267948966, _vatan(sy / sx))


def _qabf_q(gx, ax, gf, af, ref_rule):
    """Q^{XF} of one pixel (the chain of ``fusion._qabf_q``)."""
    # gf / gx if gx > gf else gx / gf, with one division
    r = min(gx, gf) / max(gx, gf)
    r = _sel(gx == gf, _sel(ref_rule, gf, 1.0), r)
    aaf = 1 - abs(ax - af) / 1.5707963267948966
    qg = 0.9994 / (_vexp((r - 0.5) * -15.0) + 1)
    qa = 0.9879 / (_vexp((aaf - 0.8) * -22.0) + 1)
    return qg * qa


def _qabf_map(sxa, sya, sxb, syb, sxf, syf, scale, ref_rule, norm, num,
              den):
    """Per pixel: ``num`` = ``Q^{AF} g_A + Q^{BF} g_B``, ``den`` = ``g_A +
    g_B`` from the Sobel responses (the Q's divided by ``norm``, the edge
    strengths multiplied by ``scale``, when not 1)."""
    h, w = sxa.shape
    for i in range(h):
        for j in range(w):
            ga, aa = _edge(sxa[i, j], sya[i, j])
            gb, ab = _edge(sxb[i, j], syb[i, j])
            gf, af = _edge(sxf[i, j], syf[i, j])
            # (x * 1 and x / 1 are exact: no test for scale / norm == 1)
            ga = ga * scale
            gb = gb * scale
            gf = gf * scale
            qaf = _qabf_q(ga, aa, gf, af, ref_rule) / norm
            qbf = _qabf_q(gb, ab, gf, af, ref_rule) / norm
            num[i, j] = qaf * ga + qbf * gb
            den[i, j] = ga + gb


def _nabf_edge(gv, gh):
    """Nabf edge strength and orientation of one pixel: ``sqrt(gv^2 +
    gh^2)``, ``0 if gv == gh == 0 else atan(gv / gh)``."""
    g = math.sqrt(gv * gv + gh * gh)
    return g, _sel((gv == 0) & (gh == 0), 0.0, _vatan(gv / gh))


def _nabf_q(gx, ax, gf, af):
    """Kumar's Q^{XF} of one pixel (the chain of ``fusion.nabf``'s q)."""
    r = min(gx, gf) / max(gx, gf)
    r = _sel((gx == 0) | (gf == 0), 0.0, r)
    ang = abs(abs(ax - af) - 1.5707963267948966) * 2 / 3.141592653589793
    qg = 0.9999 / (_vexp((r - 0.5) * -19.0) + 1)
    qa = 0.9995 / (_vexp((ang - 0.5) * -22.0) + 1)
    return math.sqrt(qg * qa)


def _nabf_weight(g):
    """``g^1.5 if g >= 2 else 0.001`` (as ``g sqrt(g)``, < 1 ulp from
    ``pow``)."""
    return _sel(g >= 2, g * math.sqrt(g), 0.001)


def _nabf_map(gva, gha, gvb, ghb, gvf, ghf, num, den):
    """Per pixel: ``num`` = ``n [(1 - Q^{AF}) w_A + (1 - Q^{BF}) w_B]``
    with ``n = [g_F > g_A and g_F > g_B]``, ``den`` = ``w_A + w_B``, from
    the Sobel/8 responses (``fusion.nabf``)."""
    h, w = gva.shape
    for i in range(h):
        for j in range(w):
            ga, aa = _nabf_edge(gva[i, j], gha[i, j])
            gb, ab = _nabf_edge(gvb[i, j], ghb[i, j])
            gf, af = _nabf_edge(gvf[i, j], ghf[i, j])
            wa = _nabf_weight(ga)
            wb = _nabf_weight(gb)
            t = (1 - _nabf_q(ga, aa, gf, af)) * wa + (
                1 - _nabf_q(gb, ab, gf, af)) * wb
            num[i, j] = _sel((gf > ga) & (gf > gb), t, 0.0)
            den[i, j] = wa + wb


def _ssim_map(gx, gy, qx, qy, sxy, r, cov_norm, c1, c2, out):
    """Per pixel of the 'valid' region (offset ``r`` in the full filter
    outputs ``G(x)``, ``G(y)``, ``G(x^2)``, ``G(y^2)``, ``G(xy)``) the SSIM
    map ``((2 mx my + c1)(2 vxy + c2)) / ((mx^2 + my^2 + c1)(vx + vy +
    c2))`` with ``vx = (G(x^2) - mx^2) cov_norm``, ``vxy = (G(xy) - mx my)
    cov_norm`` (the chain of ``fusion._ssim_from``). Each row is read
    through a slice starting at the offset, so that the inner loop indexes
    by its counter alone (an index ``j + r`` with a run-time ``r`` keeps
    LLVM from vectorising the loop well)."""
    h, w = out.shape
    for i in range(h):
        rgx = gx[i + r, r:]
        rgy = gy[i + r, r:]
        rqx = qx[i + r, r:]
        rqy = qy[i + r, r:]
        rsxy = sxy[i + r, r:]
        for j in range(w):
            a = rgx[j]
            b = rgy[j]
            vx = (rqx[j] - a * a) * cov_norm
            vy = (rqy[j] - b * b) * cov_norm
            vxy = (rsxy[j] - a * b) * cov_norm
            s = (2 * a * b + c1) * (vxy * 2 + c2)
            d = (a * a + b * b + c1) * ((vx + vy) + c2)
            out[i, j] = s / d


# --------------------------------------------------------------------------
# compilation
# --------------------------------------------------------------------------
class _Kernels:
    """The compiled kernels (attributes ``vif``, ``qabf``, ``nabf``,
    ``ssim``)."""

    def __init__(self, numba):
        opts = dict(cache=True, nogil=True, fastmath=False,
                    error_model='numpy')
        g = globals()
        # the kernels find the helpers as module globals (compiled with
        # forceinline so that no call is left in the loops)
        g['_f2i'], g['_i2f'] = bitcast_intrinsics()
        # log2 is the FMI kernels' branch-free one (FreeBSD e_log2.c, < 1
        # ulp; arguments here are >= 1); it finds the intrinsics as
        # globals of its own module
        _fmi_log2.__globals__.setdefault('_f2i', g['_f2i'])
        _fmi_log2.__globals__.setdefault('_i2f', g['_i2f'])
        g['_log2'] = numba.njit(forceinline=True, **opts)(_fmi_log2)
        for name in ('_sel', '_vexp', '_vatan', '_edge', '_qabf_q',
                     '_nabf_edge', '_nabf_q', '_nabf_weight'):
            g[name] = numba.njit(forceinline=True, **opts)(g[name])
        self.vif = numba.njit(**opts)(_vif_map)
        self.qabf = numba.njit(**opts)(_qabf_map)
        self.ssim = numba.njit(**opts)(_ssim_map)
        self.nabf = numba.njit(**opts)(_nabf_map)


def kernels(use_numba: Optional[bool] = None) -> Optional[_Kernels]:
    """The compiled kernels, or None (numba missing, disabled with
    :data:`USE_NUMBA` / ``use_numba=False``, or
    compilation failed)."""
    if use_numba is None:
        use_numba = USE_NUMBA
    if not use_numba:
        return None
    return compile_once(_KERNELS, _LOCK, _Kernels, 'fusion metrics')


def map_sums(kernel, *arrays, extra=(), n_out: int = 1) -> tuple:
    """Run a map kernel on 2-D float64 arrays; returns the numpy sums
    (pairwise, as the numpy path) of its ``n_out`` output maps (of the
    first array's shape)."""
    outs = [np.empty(arrays[0].shape) for _ in range(n_out)]
    kernel(*arrays, *extra, *outs)
    return tuple(float(o.sum()) for o in outs)
