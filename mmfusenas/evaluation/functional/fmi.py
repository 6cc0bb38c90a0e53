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

Implementation: the joint entropy is not summed over the :math:`l \times l`
grid. :math:`\Delta C` is non-zero only on the :math:`2l-1` cells of the
monotone path that merges the two cdfs (for :math:`W`, after reflecting
:math:`F`), and the product part contributes
:math:`-a\log_2|a| + a(H(x)+H(f))` in closed form (:math:`a = 1-k`), so each
window pair costs :math:`O(l)` (see the comment above ``_Workspace``). The
result equals the grid evaluation to round-off (~1e-15 relative; checked
window by window against it in ``tests/test_evaluation/test_fmi_fast.py``).
"""

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


def _window_fmi(xw: np.ndarray, fw: np.ndarray) -> np.ndarray:
    """``FMI_XF`` of every column of ``(l, P)`` window stacks, ``l >= 2``
    (raw windows, no equal-window shortcut). Used by the tests."""
    l, n = xw.shape
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
