r"""Feature mutual information (FMI), vectorised Fast-FMI.

Haghighat, Aghagolzadeh & Seyedarabi, CEE 2011, in the Fast-FMI form
(Haghighat & Razian, AICT 2014) of the widely used ``fmi.m`` /
``analysis_fmi.m``, quirks included. Per ``w x w`` window of the feature
maps of a source :math:`X` and the fused :math:`F`, the windows become
pdfs :math:`x, f`; their joint pdf is Nelsen's mixture
:math:`p = k\,\Delta C + (1-k) f x^T` with a Fréchet bound copula
:math:`C` and :math:`k` set by their Pearson correlation, and
:math:`FMI_{XF} = 2MI/(H(x)+H(f))`. :func:`fmi` averages
:math:`(FMI_{AF}+FMI_{BF})/2` over the windows of :func:`fmi_features`
(``'none'``, ``'gradient'``, ``'edge'``, ``'dct'``, ``'wavelet'``) at
:math:`O(l)` per window (see the comment above ``_Workspace``), compiled by
numba (``USE_NUMBA``, ``NUMBA_THREADS``) or in numpy.
"""

import math
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

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


# ----------------------------------------------------------------------------
# Fast-FMI core.
#
# Windows are processed in blocks of ``q`` columns laid out as ``(l, q)``
# arrays (one row per window position), in preallocated buffers: numpy
# temporaries above ~128 KiB are mmap-ed and page-faulted on every call, which
# made the straightforward code several times slower than its arithmetic.
#
# Joint entropy in O(l) per window pair (instead of the l x l grid):
#
# * the rectangle masses of the min-copula M for the cdfs F, X are the
#   overlaps of the intervals [F_{i-1}, F_i] and [X_{j-1}, X_j]; they are
#   non-zero only on the monotone lattice path of the merge of the two cdfs,
#   i.e. on one cell (i_s, j_s), i_s + j_s = s + 2, of each anti-diagonal
#   s = 0 .. 2l-2 (two cells of an anti-diagonal cannot both overlap).
#   i_s - 1 is the number of interior F breakpoints among the first s
#   merged breakpoints, an anti-diagonal sum of the comparisons
#   [F_p <= X_q]; the cell's mass is e_s - e_{s-1} with
#   e_s = min(F_{i_s}, X_{j_s}) (the merged breakpoints).
# * the max-copula W (c < 0) is M after reflecting F: the W mass of cell
#   (i, j) is the M mass of cell (l+1-i, j) for the cdf
#   F'_m = 1 - F_{l-m} of the reversed pdf.
# * with a = 1 - k, the cells off the path hold a f_i x_j, so
#   H(p) = sum_all g(a f x) + sum_path [g(p) - g(a f x)], g(v) = -v log2|v|,
#   and sum_all g(a f x) = -a log2|a| + a (H(f) + H(x)) since sum f =
#   sum x = 1. Hence
#   MI = k (H(x) + H(f)) + a log2|a| + S1 - a (log2|a| S3 + S2) with
#   S1 = sum_path p log2|p|, S2 = sum_path fx log2(fx), S3 = sum_path fx.
# * sum_ij C(F_i, X_j) = sum_s L_s w_s with L_s the path cell masses and
#   w_s = (l+1-i_s)(l+1-j_s) for M, i'_s (l+1-j_s) for W (reflected F).
#
# The pdfs carry +1e-150 (no value above ~1e-134 changes) so that log2 of a
# pdf or of a product of two pdfs is finite without a guard pass.
# ----------------------------------------------------------------------------
_EPS = 1e-150
_BLOCK = 8192           # windows per block
_DENSE = 0.5            # below this fraction of differing windows: queue


class _Stats:
    """Per-window statistics of one block of windows (views into buffers)."""


class _Workspace:
    """Buffers for blocks of up to ``cap`` windows of ``l`` positions.

    Every 2-D buffer is ``(rows, cap)``; a block of ``q <= cap`` windows uses
    the ``[:, :q]`` views, and gathers index the flat buffer with row stride
    ``cap``.
    """

    def __init__(self, l: int, cap: int):
        ns = 2 * l - 1
        self.l, self.cap, self.ns = l, cap, ns

        def f8(rows):
            return np.empty((rows, cap))

        self.win = [f8(l) for _ in range(3)]      # A, B, F windows
        # queued (X, F) windows of pairs that differ, per source
        self.queue = [(f8(l), f8(l)) for _ in range(2)]
        self.pending = [0, 0]
        self.prepared = None    # the F stats held by both_cdf / both_pdf
        # stats slots: 0 A, 1 B, 2 F, 3 queued F
        self.slots = []
        for _ in range(4):
            st = _Stats()
            st.pdf, st.cdf, st.t = f8(l), f8(l), f8(l)
            self.slots.append(st)
        self.tmp = f8(l)
        self.mask = np.empty((l, cap), bool)
        self.cmp = np.empty((l - 1, cap), bool)
        self.both_cdf, self.both_pdf = f8(2 * l), f8(2 * l)
        cdt = np.uint8 if l < 255 else np.uint16
        wdt = np.uint8 if l * l < 256 else (
            np.uint16 if l * l < 65536 else np.uint32)
        self.cnt = np.empty((ns, cap), cdt)
        self.u = np.empty((ns, cap), wdt)
        self.u2 = np.empty((ns, cap), wdt)
        self.iidx = np.empty((ns, cap), np.intp)
        self.jidx = np.empty((ns, cap), np.intp)
        self.g1, self.g2, self.ls, self.fx, self.p = (f8(ns)
                                                      for _ in range(5))
        s = np.arange(ns)
        # i_s before the comparisons: 1 + (number of F breakpoints that
        # precede slot s unconditionally)
        self.cnt0 = (1 + np.maximum(0, s - (l - 1))).astype(cdt)[:, None]
        # l + 1 - j_s = i_s + (l - 1 - s), wrapped into the unsigned dtype
        self.v0 = (l - 1 - s).astype(cdt)[:, None]
        col = np.arange(cap)
        self.col_off = col - cap
        self.jbase = (s[:, None] + 1) * cap + col
        self.pos = np.arange(1, l + 1, dtype=np.float64)
        self.pos2 = self.pos * self.pos


def _windows_into(x: np.ndarray, w: int, out: np.ndarray) -> None:
    """Fill ``out[:, :P]`` with the ``w x w`` windows of ``x`` (MATLAB
    column-major window order)."""
    h, wd = x.shape
    nr, nc = h - w + 1, wd - w + 1
    i = 0
    for dc in range(w):
        for dr in range(w):
            out[i, :nr * nc].reshape(nr, nc)[...] = x[dr:dr + nr,
                                                      dc:dc + nc]
            i += 1


def _normalise_into(w: np.ndarray, out: np.ndarray) -> None:
    """Min-max normalise every column; a flat column becomes all ones."""
    lo = w.min(0)
    rng = w.max(0)
    rng -= lo
    np.subtract(w, lo, out=out)
    flat = rng == 0
    if flat.any():
        rng[flat] = 1.0
        out /= rng
        out[:, flat] = 1.0
    else:
        out /= rng


def _stats(ws: _Workspace, slot: int, q: int, w: np.ndarray = None):
    """pdf (+eps), cdf, centred pdf, sd of the position, entropy.

    ``w`` are raw windows to normalise; without it the slot's ``pdf`` view
    already holds the normalised windows.
    """
    l = ws.l
    st = ws.slots[slot]
    pdf, cdf, t = st.pdf[:, :q], st.cdf[:, :q], st.t[:, :q]
    tmp = ws.tmp[:, :q]
    if w is not None:
        _normalise_into(w, pdf)
    pdf /= pdf.sum(0)
    cdf[0] = pdf[0]
    for i in range(1, l):
        np.add(cdf[i - 1], pdf[i], out=cdf[i])
    np.subtract(pdf, pdf.mean(0), out=t)
    np.abs(t, out=tmp)
    mask = ws.mask[:, :q]
    np.less(tmp, 1e-12, out=mask)
    np.copyto(t, 0.0, where=mask)
    e1, e2 = ws.pos @ pdf, ws.pos2 @ pdf
    e2 -= e1 * e1
    np.maximum(e2, 0.0, out=e2)
    st.sd = np.sqrt(e2, out=e2)
    st.scdf = cdf.sum(0)
    st.tt = np.einsum('ij,ij->j', t, t)
    pdf += _EPS
    np.log2(pdf, out=tmp)
    st.ent = -np.einsum('ij,ij->j', tmp, pdf)
    st.pdf_v, st.cdf_v, st.t_v = pdf, cdf, t
    return st


def _prepare_f(ws: _Workspace, fs, q: int) -> None:
    """F cdf / pdf and their reflections, stacked for the gathers."""
    if ws.prepared is fs:
        return
    ws.prepared = fs
    l = ws.l
    bc, bp = ws.both_cdf[:, :q], ws.both_pdf[:, :q]
    bc[:l] = fs.cdf_v
    np.subtract(1.0, fs.cdf_v[l - 2::-1], out=bc[l:2 * l - 1])
    bc[2 * l - 1] = 1.0
    bp[:l] = fs.pdf_v
    bp[l:] = fs.pdf_v[::-1]


def _pairs(ws: _Workspace, xs, fs, q: int) -> np.ndarray:
    """FMI of ``q`` window pairs from their statistics (see above)."""
    l, cap = ws.l, ws.cap
    num = np.einsum('ij,ij->j', xs.t_v, fs.t_v)
    den = np.sqrt(xs.tt * fs.tt)
    with np.errstate(divide='ignore', invalid='ignore'):
        c = np.where((np.abs(num) < 1e-12) | (den == 0), 0.0, num / den)
    neg = c < 0
    any_neg = bool(neg.any())
    x_cdf = xs.cdf_v
    f_cdf, f_rcdf = fs.cdf_v, ws.both_cdf[l:, :q]
    # slot -> row i_s of the path
    cnt = ws.cnt[:, :q]
    cnt[...] = ws.cnt0
    cmp = ws.cmp[:, :q]
    cmp_u = cmp.view(np.uint8)
    x8 = x_cdf[:l - 1]
    for p in range(l - 1):
        fp = np.where(neg, f_rcdf[p], f_cdf[p]) if any_neg else f_cdf[p]
        np.less_equal(fp, x8, out=cmp)
        sl = cnt[p + 1:p + l]
        np.add(sl, cmp_u, out=sl)
    iidx, jidx = ws.iidx[:, :q], ws.jidx[:, :q]
    np.multiply(cnt, cap, out=iidx, dtype=np.intp)
    np.subtract(ws.jbase[:, :q], iidx, out=jidx)
    off = ws.col_off[:q]
    if any_neg:
        off = off + neg * (l * cap)
    iidx += off
    g1, g2, ls = ws.g1[:, :q], ws.g2[:, :q], ws.ls[:, :q]
    np.take(ws.both_cdf.ravel(), iidx, out=g1, mode='clip')
    np.take(xs.cdf.ravel(), jidx, out=g2, mode='clip')
    np.minimum(g1, g2, out=g1)          # merged breakpoints e_s
    ls[0] = g1[0]
    np.subtract(g1[1:], g1[:-1], out=ls[1:])
    # copula sum: weights (l+1-i)(l+1-j) (M) or i'(l+1-j) (W, reflected F)
    u = ws.u[:, :q]
    np.subtract(l + 1, cnt, out=u, dtype=u.dtype)
    if any_neg:     # u += neg * (2 i - l - 1), modulo the unsigned dtype
        t = ws.u2[:, :q]
        np.add(cnt, cnt, out=t, dtype=t.dtype)
        np.subtract(t, t.dtype.type(l + 1), out=t)
        np.multiply(t, neg.view(np.uint8), out=t)
        u += t
    np.add(cnt, ws.v0, out=cnt)
    u *= cnt
    cov = np.einsum('ij,ij->j', ls, u)
    cov -= fs.scdf * xs.scdf
    sds = fs.sd * xs.sd
    with np.errstate(divide='ignore', invalid='ignore'):
        k = c * sds / cov
    k[(sds == 0) | (c == 0) | ~np.isfinite(k)] = 0.0
    a = 1.0 - k
    la = np.log2(np.maximum(np.abs(a), 1e-300))
    fx, pp = ws.fx[:, :q], ws.p[:, :q]
    np.take(ws.both_pdf.ravel(), iidx, out=g1, mode='clip')
    np.take(xs.pdf.ravel(), jidx, out=g2, mode='clip')
    np.multiply(g1, g2, out=fx)
    np.multiply(ls, k, out=pp)
    np.multiply(fx, a, out=g1)
    pp += g1
    with np.errstate(divide='ignore', invalid='ignore'):
        np.abs(pp, out=g1)
        np.log2(g1, out=g1)
        s1 = np.einsum('ij,ij->j', g1, pp)
    bad = np.flatnonzero(~np.isfinite(s1))
    if bad.size:        # a path cell with p == 0 (0 * log 0)
        sub = pp[:, bad]
        s1[bad] = (sub * np.log2(np.maximum(np.abs(sub), 1e-300))).sum(0)
    np.log2(fx, out=g1)
    s2 = np.einsum('ij,ij->j', g1, fx)
    s3 = fx.sum(0)
    h = xs.ent + fs.ent
    mi = k * h + a * la + s1 - a * (la * s3 + s2)
    with np.errstate(divide='ignore', invalid='ignore'):
        out = 2 * mi / h
    out[mi == 0] = 0.0
    return out


def _fmi_block(ws: _Workspace, q: int) -> float:
    """Sum of ``FMI_AF + FMI_BF`` over the ``q`` windows in ``ws.win``.

    Windows where the source equals F (FMI 1) are skipped; when they are the
    majority (e.g. edge maps) the differing windows are queued and processed
    in full blocks by :func:`_flush`.
    """
    aw, bw, fw = (x[:, :q] for x in ws.win)
    ws.prepared = None
    f_slot = ws.slots[2]
    fnorm = f_slot.pdf[:, :q]
    _normalise_into(fw, fnorm)
    eq_a = (aw == fw).all(0)
    # reference quirk: fSub was normalised in place when aSub ~= fSub
    eq_b = (bw == fnorm).all(0)
    if eq_a.any():
        eq_b[eq_a] = (bw[:, eq_a] == fw[:, eq_a]).all(0)
    fs = None
    total = 0.0
    for slot, xw, eq in ((0, aw, eq_a), (1, bw, eq_b)):
        n_eq = int(np.count_nonzero(eq))
        total += n_eq
        if n_eq == q:
            continue
        if q - n_eq >= _DENSE * q:
            if fs is None:
                fs = _stats(ws, 2, q)
            _prepare_f(ws, fs, q)
            res = _pairs(ws, _stats(ws, slot, q, xw), fs, q)
            total += res[~eq].sum() if n_eq else res.sum()
            continue
        sel = np.flatnonzero(~eq)
        while sel.size:
            n = ws.pending[slot]
            m = min(sel.size, ws.cap - n)
            np.take(xw, sel[:m], axis=1, out=ws.queue[slot][0][:, n:n + m])
            np.take(fw, sel[:m], axis=1, out=ws.queue[slot][1][:, n:n + m])
            ws.pending[slot] = n + m
            sel = sel[m:]
            if ws.pending[slot] == ws.cap:
                total += _flush(ws, slot)
    return total


def _flush(ws: _Workspace, slot: int) -> float:
    """Sum of FMI over the queued window pairs of source ``slot``."""
    m = ws.pending[slot]
    if not m:
        return 0.0
    ws.pending[slot] = 0
    qx, qf = (x[:, :m] for x in ws.queue[slot])
    fs = _stats(ws, 3, m, qf)
    ws.prepared = None
    _prepare_f(ws, fs, m)
    return float(_pairs(ws, _stats(ws, slot, m, qx), fs, m).sum())


# ----------------------------------------------------------------------------
# Optional compiled path (numba), used when numba is importable.
#
# The same algorithm as the numpy path above, compiled: windows are handled
# in chunks of ``_NB_CHUNK`` (one row of windows at a time) laid out as
# ``(l, chunk)`` arrays, with every loop running over the chunk innermost so
# that LLVM vectorises it across windows (the per-window code is a chain of
# short dependent sums and runs at a fraction of the speed one window at a
# time). The arithmetic is the numpy path's: every sum over the window or
# path is accumulated in the same order as numpy's reductions along axis 0,
# products and quotients use the same operands, fastmath is off (no FMA
# contraction, no reassociation) and ``error_model='numpy'``. Differences:
#
# * log2 is FreeBSD's ``e_log2.c`` (< 1 ulp), written branch-free so that
#   it vectorises (numba calls libm one value at a time otherwise); numpy's
#   SIMD log2 is also within 1 ulp, so the two differ in the last bit for a
#   fraction of a percent of the arguments;
# * the position moments are summed sequentially (numpy: BLAS ``gemv``);
# * the score is summed per chunk and band of window rows (numpy: per
#   block).
#
# Per-window values agree to ~1e-16 relative, up to ~1e-13 where FMI is
# ill-conditioned (near-equal windows, k ~ 1; the numpy path and the grid
# reference differ there as much), and image scores to < 1e-15 (TNO; 1e-12
# is tested, and ``tests/test_evaluation/test_fmi_fast.py`` runs every
# check on both paths). Flat, identical and delta windows give exactly the
# same 0s and 1s: k = 0 implies p = fx cell by cell, hence MI = 0 exactly.
#
# Chunks where fewer than half of the windows differ from F (edge maps) are
# queued per source as in ``_fmi_block`` and processed in full chunks. Bands
# of ``_NB_BAND`` window rows are independent tasks; with ``NUMBA_THREADS >
# 1`` they run on a thread pool (the kernels release the GIL). The band
# layout does not depend on the number of threads, so neither does the
# result. The same kernels serve every window size.
#
# The kernels are plain Python functions here: :func:`_numba_kernels`
# imports numba and compiles them on first use (importing the metrics does
# not pay for numba), with ``cache=True`` so that later processes load the
# machine code from ``__pycache__`` (or numba's user cache directory).
# ----------------------------------------------------------------------------
#: Use the numba kernels when numba is importable (read at call time).
#: ``False`` forces the numpy path.
USE_NUMBA = True
#: Threads for the compiled path: ``None`` = the CPUs this process may use
#: (``os.sched_getaffinity``); ``MMFUSENAS_FMI_THREADS`` overrides it.
NUMBA_THREADS = None
if os.environ.get('MMFUSENAS_FMI_THREADS', '').strip():
    try:
        NUMBA_THREADS = int(os.environ['MMFUSENAS_FMI_THREADS'])
    except ValueError:
        warnings.warn('MMFUSENAS_FMI_THREADS must be an integer; ignored')
_NB_CHUNK = 256     # windows per vectorised chunk
_NB_BAND = 32       # rows of windows per task
_NB = []            # [kernels] once compiled, [None] if numba is unusable
_POOL = [None, None]    # thread pool, (its size, pid)
_LOCK = threading.Lock()


def _nb_log2(x):
    """log2 of a positive normal double (FreeBSD ``e_log2.c``, < 1 ulp).

    Every argument here is at least ~1e-300 (pdfs carry +1e-150, the path
    masses are clamped to 1e-300), so the subnormal scaling of ``e_log2.c``
    is left out."""
    ix = _f2i(x)
    hx = ix >> 32
    k = (hx >> 20) - 1023
    hx &= 0x000fffff
    i = (hx + 0x95f64) & 0x100000
    # x or x / 2 in [sqrt(2) / 2, sqrt(2)), minus 1
    f = _i2f(((hx | (i ^ 0x3ff00000)) << 32) | (ix & 0xffffffff)) - 1.0
    y = float(k + (i >> 20))
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 +
                                              w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w *
              (2.857142874366239149e-01 + w *
               (1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
    r = s * (hfsq + (t2 + t1))
    hi = _i2f(_f2i(f - hfsq) & -4294967296)     # low 32 bits cleared
    lo = (f - hi) - hfsq + r
    val_hi = hi * 1.44269504072144627571e+00
    val_lo = ((lo + hi) * 1.67517131648865118353e-10 +
              lo * 1.44269504072144627571e+00)
    w = y + val_hi
    val_lo += (y - w) + val_hi
    return val_lo + w


def _nb_normalise(w, out, lo, hi, n):
    """:func:`_normalise_into` for columns ``:n`` of ``w``."""
    l = w.shape[0]
    w0 = w[0]
    for p in range(n):
        lo[p] = w0[p]
        hi[p] = w0[p]
    for i in range(1, l):
        wi = w[i]
        for p in range(n):
            lo[p] = min(lo[p], wi[p])
            hi[p] = max(hi[p], wi[p])
    for p in range(n):
        hi[p] -= lo[p]
    for i in range(l):
        wi, oi = w[i], out[i]
        for p in range(n):
            r = hi[p]
            oi[p] = 1.0 if r == 0 else (wi[p] - lo[p]) / r


def _nb_stats(pdf, cdf, t, st, tmp, n):
    """:func:`_stats` for columns ``:n``; ``pdf`` holds the normalised
    windows on entry, the pdf + eps on exit. ``st`` rows: sd, sum of the
    cdf, t.t, entropy."""
    l = pdf.shape[0]
    sd, scdf, tt, ent = st[0], st[1], st[2], st[3]
    s, e1 = tmp[0], tmp[1]
    p0 = pdf[0]
    for p in range(n):
        s[p] = p0[p]
    for i in range(1, l):
        pi = pdf[i]
        for p in range(n):
            s[p] += pi[p]
    for i in range(l):
        pi = pdf[i]
        for p in range(n):
            pi[p] = pi[p] / s[p]
    c0 = cdf[0]
    for p in range(n):
        c0[p] = p0[p]
        s[p] = p0[p]            # now the sum of the pdf, for its mean
        scdf[p] = p0[p]
    for i in range(1, l):
        pi, ci, cp = pdf[i], cdf[i], cdf[i - 1]
        for p in range(n):
            ci[p] = cp[p] + pi[p]
            s[p] += pi[p]
            scdf[p] += ci[p]
    for p in range(n):
        s[p] = s[p] / l
        tt[p] = 0.0
        e1[p] = 0.0
        sd[p] = 0.0             # second moment first
        ent[p] = 0.0
    for i in range(l):
        pi, ti = pdf[i], t[i]
        pos = i + 1.0
        pos2 = pos * pos
        for p in range(n):
            d = pi[p] - s[p]
            d = 0.0 if abs(d) < 1e-12 else d
            ti[p] = d
            tt[p] += d * d
            e1[p] += pos * pi[p]
            sd[p] += pos2 * pi[p]
            v = pi[p] + _EPS
            pi[p] = v
            ent[p] += _nb_log2(v) * v
    for p in range(n):
        v = sd[p] - e1[p] * e1[p]
        sd[p] = np.sqrt(max(v, 0.0))
        ent[p] = -ent[p]


def _nb_pairs(xpdf, xcdf, xt, xst, fpdf, fcdf, ft, fst, ws, cnt, out, n):
    """``out[:n]`` = FMI of the window pairs (:func:`_pairs`)."""
    l, q = xpdf.shape
    ns = 2 * l - 1
    fc, fp, ls, fx, v = ws[0], ws[1], ws[2], ws[3], ws[4]
    c, neg, cov, prev, s1, s2, s3 = v[0], v[1], v[2], v[3], v[4], v[5], v[6]
    for p in range(n):
        c[p] = 0.0
    for i in range(l):
        xi, fi = xt[i], ft[i]
        for p in range(n):
            c[p] += xi[p] * fi[p]
    xtt, ftt = xst[2], fst[2]
    for p in range(n):
        num = c[p]
        den = np.sqrt(xtt[p] * ftt[p])
        cp = 0.0 if (abs(num) < 1e-12) | (den == 0) else num / den
        c[p] = cp
        neg[p] = cp < 0
    # F cdf and pdf, reflected where c < 0 (the W copula)
    for i in range(l):
        ca, cb = fcdf[i], fcdf[max(l - 2 - i, 0)]
        pa, pb = fpdf[i], fpdf[l - 1 - i]
        fci, fpi = fc[i], fp[i]
        last = i == l - 1
        for p in range(n):
            r = 1.0 if last else 1.0 - cb[p]
            fci[p] = r if neg[p] else ca[p]
            fpi[p] = pb[p] if neg[p] else pa[p]
    # 0-based row i_s of the path cell on anti-diagonal s
    for s in range(ns):
        base = max(0, s - (l - 1))
        cs = cnt[s]
        for p in range(n):
            cs[p] = base
    for a in range(l - 1):
        fa = fc[a]
        for b in range(l - 1):
            xb = xcdf[b]
            cs = cnt[a + b + 1]
            for p in range(n):
                cs[p] += fa[p] <= xb[p]
    # path cells: masses (merged breakpoint increments), copula sum, fx
    for p in range(n):
        prev[p] = 0.0
        cov[p] = 0.0
    fcf, fpf, xcf, xpf = fc.ravel(), fp.ravel(), xcdf.ravel(), xpdf.ravel()
    for s in range(ns):
        cs, lss, fxs = cnt[s], ls[s], fx[s]
        for p in range(n):
            i = cs[p]
            j = s - i
            fi = np.uint64(i * q + p)
            xj = np.uint64(j * q + p)
            e = min(fcf[fi], xcf[xj])
            d = e - prev[p]
            prev[p] = e
            lss[p] = d
            cov[p] += d * ((i + 1 if neg[p] else l - i) * (l - j))
            fxs[p] = fpf[fi] * xpf[xj]
    fx0 = fx[0]
    for p in range(n):
        s2[p] = 0.0
        s3[p] = fx0[p]
    for s in range(ns):
        fxs = fx[s]
        for p in range(n):
            f = fxs[p]
            s2[p] += _nb_log2(f) * f
            if s:
                s3[p] += f
    k = cov
    xsd, fsd, xscdf, fscdf = xst[0], fst[0], xst[1], fst[1]
    for p in range(n):
        cv = cov[p] - fscdf[p] * xscdf[p]
        sds = fsd[p] * xsd[p]
        kp = c[p] * sds / cv
        k[p] = 0.0 if (sds == 0) | (c[p] == 0) | ~np.isfinite(kp) else kp
        s1[p] = 0.0
    for s in range(ns):
        lss, fxs = ls[s], fx[s]
        for p in range(n):
            kp = k[p]
            pp = lss[p] * kp + fxs[p] * (1.0 - kp)
            # numpy: p log2|p|, 0 for p == 0
            s1[p] += _nb_log2(max(abs(pp), 1e-300)) * pp
    xent, fent = xst[3], fst[3]
    for p in range(n):
        kp = k[p]
        a = 1.0 - kp
        la = _nb_log2(max(abs(a), 1e-300))
        h = xent[p] + fent[p]
        mi = kp * h + a * la + s1[p] - a * (la * s3[p] + s2[p])
        out[p] = 0.0 if mi == 0 else 2 * mi / h


def _nb_flush(qx, qf, m, pdf, cdf, t, st, ws, cnt, tmp, val):
    """Sum of FMI over ``m`` queued raw window pairs (slots 0 and 1)."""
    _nb_normalise(qf, pdf[1], tmp[0], tmp[1], m)
    _nb_stats(pdf[1], cdf[1], t[1], st[1], tmp, m)
    _nb_normalise(qx, pdf[0], tmp[0], tmp[1], m)
    _nb_stats(pdf[0], cdf[0], t[0], st[0], tmp, m)
    _nb_pairs(pdf[0], cdf[0], t[0], st[0], pdf[1], cdf[1], t[1], st[1], ws,
              cnt, val, m)
    acc = 0.0
    for p in range(m):
        acc += val[p]
    return acc


def _nb_band(fa, fb, ff, w, q, r0, r1):
    """Sum of FMI_AF + FMI_BF over the windows of window rows ``r0:r1``
    (:func:`_fmi_block` and :func:`_flush`)."""
    nc = ff.shape[1] - w + 1
    l = w * w
    ns = 2 * l - 1
    raw = np.empty((3, l, q))
    pdf = np.empty((3, l, q))       # slots: A, B, F
    cdf = np.empty((3, l, q))
    t = np.empty((3, l, q))
    st = np.empty((3, 4, q))
    ws = np.empty((5, ns, q))
    cnt = np.empty((ns, q), np.intp)
    tmp = np.empty((2, q))
    eq = np.empty((2, q), np.bool_)
    val = np.empty(q)
    # queues of differing (X, F) raw windows, per source
    qx = np.empty((2, l, q))
    qf = np.empty((2, l, q))
    qn = np.zeros(2, np.intp)
    acc = 0.0
    for r in range(r0, r1):
        for c0 in range(0, nc, q):
            n = min(q, nc - c0)
            i = 0
            for dc in range(w):
                for dr in range(w):
                    ra, rb, rf = raw[0, i], raw[1, i], raw[2, i]
                    xa, xb, xf = fa[r + dr], fb[r + dr], ff[r + dr]
                    for p in range(n):
                        ra[p] = xa[c0 + dc + p]
                        rb[p] = xb[c0 + dc + p]
                        rf[p] = xf[c0 + dc + p]
                    i += 1
            fnorm = pdf[2]
            _nb_normalise(raw[2], fnorm, tmp[0], tmp[1], n)
            ea, eb = eq[0], eq[1]
            for p in range(n):
                ea[p] = True
                eb[p] = True
            for i in range(l):
                ra, rf = raw[0, i], raw[2, i]
                for p in range(n):
                    ea[p] &= ra[p] == rf[p]
            # reference quirk: F was normalised in place when aSub ~= fSub
            for i in range(l):
                rb, rf, fi = raw[1, i], raw[2, i], fnorm[i]
                for p in range(n):
                    eb[p] &= rb[p] == (rf[p] if ea[p] else fi[p])
            f_done = False
            for src in range(2):
                e = eq[src]
                n_eq = 0
                for p in range(n):
                    n_eq += e[p]
                acc += n_eq
                if n_eq == n:
                    continue
                if 2 * (n - n_eq) >= n:         # dense: the whole chunk
                    if not f_done:
                        _nb_stats(fnorm, cdf[2], t[2], st[2], tmp, n)
                        f_done = True
                    _nb_normalise(raw[src], pdf[src], tmp[0], tmp[1], n)
                    _nb_stats(pdf[src], cdf[src], t[src], st[src], tmp, n)
                    _nb_pairs(pdf[src], cdf[src], t[src], st[src], fnorm,
                              cdf[2], t[2], st[2], ws, cnt, val, n)
                    part = 0.0
                    for p in range(n):
                        if not e[p]:
                            part += val[p]
                    acc += part
                    continue
                xs, qxs, qfs = raw[src], qx[src], qf[src]
                for p in range(n):
                    if e[p]:
                        continue
                    m = qn[src]
                    for i in range(l):
                        qxs[i, m] = xs[i, p]
                        qfs[i, m] = raw[2, i, p]
                    m += 1
                    if m == q:
                        acc += _nb_flush(qxs, qfs, m, pdf, cdf, t, st, ws,
                                         cnt, tmp, val)
                        m = 0
                    qn[src] = m
    for src in range(2):
        if qn[src]:
            acc += _nb_flush(qx[src], qf[src], qn[src], pdf, cdf, t, st, ws,
                             cnt, tmp, val)
    return acc


def _nb_columns(xw, fw, q, out):
    """``out[p]`` = FMI_XF of column ``p`` of ``(l, P)`` raw window stacks
    (no equal-window shortcut; :func:`_window_fmi`)."""
    l, n_all = xw.shape
    ns = 2 * l - 1
    raw = np.empty((2, l, q))
    pdf = np.empty((2, l, q))
    cdf = np.empty((2, l, q))
    t = np.empty((2, l, q))
    st = np.empty((2, 4, q))
    ws = np.empty((5, ns, q))
    cnt = np.empty((ns, q), np.intp)
    tmp = np.empty((2, q))
    val = np.empty(q)
    for c0 in range(0, n_all, q):
        n = min(q, n_all - c0)
        for i in range(l):
            for p in range(n):
                raw[0, i, p] = xw[i, c0 + p]
                raw[1, i, p] = fw[i, c0 + p]
        for src in range(2):
            _nb_normalise(raw[src], pdf[src], tmp[0], tmp[1], n)
            _nb_stats(pdf[src], cdf[src], t[src], st[src], tmp, n)
        _nb_pairs(pdf[0], cdf[0], t[0], st[0], pdf[1], cdf[1], t[1], st[1],
                  ws, cnt, val, n)
        for p in range(n):
            out[c0 + p] = val[p]


def _numba_kernels():
    """The compiled ``(band, columns)`` kernels, or None without numba (or
    when compiling fails)."""
    if not _NB:
        with _LOCK:
            if not _NB:
                _NB.append(_compile_kernels())
    return _NB[0]


_BITCAST = []


def bitcast_intrinsics():
    """numba intrinsics ``(f2i, i2f)``: reinterpret a float64 as an int64
    and back (for branch-free ``log2`` / ``exp`` that vectorise; also used
    by :mod:`.fusion_kernels`). Raises ImportError without numba."""
    if not _BITCAST:
        from llvmlite import ir
        from numba import types
        from numba.extending import intrinsic

        @intrinsic
        def f2i(typingctx, x):
            def codegen(context, builder, sig, args):
                return builder.bitcast(args[0], ir.IntType(64))
            return types.int64(types.float64), codegen

        @intrinsic
        def i2f(typingctx, x):
            def codegen(context, builder, sig, args):
                return builder.bitcast(args[0], ir.DoubleType())
            return types.float64(types.int64), codegen

        _BITCAST.append((f2i, i2f))
    return _BITCAST[0]


def _compile_kernels():
    try:
        import numba
        from numba import types
        f2i, i2f = bitcast_intrinsics()
    except Exception:   # not installed, or not for this numpy
        return None
    opts = dict(cache=True, nogil=True, fastmath=False, error_model='numpy')
    g = globals()
    g['_f2i'], g['_i2f'] = f2i, i2f
    img = types.float64[:, ::1]
    try:
        # the helpers are looked up as module globals by the kernels (and
        # compiled with them)
        g['_nb_log2'] = numba.njit(forceinline=True, **opts)(g['_nb_log2'])
        for name in ('_nb_normalise', '_nb_stats', '_nb_pairs', '_nb_flush'):
            g[name] = numba.njit(**opts)(g[name])
        band = numba.njit(types.float64(img, img, img, types.intp,
                                        types.intp, types.intp, types.intp),
                          **opts)(_nb_band)
        cols = numba.njit(types.void(img, img, types.intp,
                                     types.float64[::1]), **opts)(_nb_columns)
    except Exception as e:  # pragma: no cover - depends on the numba build
        warnings.warn(f'FMI: compiling the numba kernels failed ({e!r}); '
                      'using the numpy path')
        return None
    return band, cols


def _kernels(use_numba: bool = None):
    """The numba kernels if they are to be used, else None."""
    if use_numba is None:
        use_numba = USE_NUMBA
    return _numba_kernels() if use_numba else None


def _n_threads() -> int:
    if NUMBA_THREADS is not None:
        return max(1, int(NUMBA_THREADS))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _pool():
    """The thread pool of the compiled path (``_n_threads()`` threads), or
    None for one thread."""
    n_thr = _n_threads()
    if n_thr < 2:
        return None
    key = (n_thr, os.getpid())     # a forked child needs its own pool
    with _LOCK:
        if _POOL[1] != key:
            if _POOL[0] is not None and _POOL[1][1] == key[1]:
                _POOL[0].shutdown(wait=False)
            _POOL[:] = [ThreadPoolExecutor(n_thr, 'fmi'), key]
        return _POOL[0]


def _nb_fmi_sum(kern, fa, fb, ff, window: int) -> float:
    """Sum of FMI_AF + FMI_BF over all windows, by bands of window rows on
    the thread pool."""
    fa, fb, ff = (np.ascontiguousarray(x, np.float64) for x in (fa, fb, ff))
    n_rows = ff.shape[0] - window + 1
    starts = range(0, n_rows, _NB_BAND)

    def run(r0):
        return kern[0](fa, fb, ff, window, _NB_CHUNK, r0,
                       min(r0 + _NB_BAND, n_rows))

    pool = _pool() if len(starts) > 1 else None
    sums = list(pool.map(run, starts)) if pool else [run(r) for r in starts]
    return math.fsum(sums)


def _window_fmi(xw: np.ndarray, fw: np.ndarray,
                use_numba: bool = None) -> np.ndarray:
    """``FMI_XF`` of every column of ``(l, P)`` window stacks, ``l >= 2``
    (raw windows, no equal-window shortcut). Used by the tests."""
    xw, fw = (np.ascontiguousarray(x, np.float64) for x in (xw, fw))
    l, n = xw.shape
    kern = _kernels(use_numba)
    if kern is not None:
        out = np.empty(n)
        kern[1](xw, fw, _NB_CHUNK, out)
        return out
    ws = _Workspace(l, n)
    fs = _stats(ws, 2, n, np.asarray(fw, np.float64))
    _prepare_f(ws, fs, n)
    return _pairs(ws, _stats(ws, 0, n, np.asarray(xw, np.float64)), fs, n)


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
    pool = _pool() if feature != 'none' else None
    if pool is not None:    # OpenCV / scipy.fft release the GIL
        fa, fb, ff = pool.map(fmi_features, (a, b, f), (feature, ) * 3)
    else:
        fa, fb, ff = (fmi_features(x, feature) for x in (a, b, f))
    if min(ff.shape) < window:
        raise ValueError(f'FMI needs feature maps of at least {window}x'
                         f'{window}, got {ff.shape}')
    l = window * window
    n_rows, n_cols = ff.shape[0] - window + 1, ff.shape[1] - window + 1
    if l == 1:
        # flat 1x1 windows: FMI is 1 for equal windows, else MI = 0; with
        # the quirk, B is compared with the normalised F (1) unless A == F
        eq_a = fa == ff
        eq_b = np.where(eq_a, fb == ff, fb == 1.0)
        return float(((eq_a + eq_b.astype(np.float64)) / 2).sum() /
                     (n_rows * n_cols))
    kern = _kernels()
    if kern is not None:
        total = _nb_fmi_sum(kern, fa, fb, ff, window)
        return float(total / 2 / (n_rows * n_cols))
    # blocks of whole rows of windows, about _BLOCK windows each
    band = max(1, _BLOCK // n_cols)
    ws = _Workspace(l, min(band, n_rows) * n_cols)
    total = 0.0
    for r0 in range(0, n_rows, band):
        r1 = min(r0 + band, n_rows)
        q = (r1 - r0) * n_cols
        for x, out in zip((fa, fb, ff), ws.win):
            _windows_into(x[r0:r1 + window - 1], window, out)
        total += _fmi_block(ws, q)
    total += _flush(ws, 0) + _flush(ws, 1)
    return float(total / 2 / (n_rows * n_cols))
