"""Fused element-wise passes of the RUAS scene module at inference (numba).

RUAS's networks are 3- and 6-channel convolutions separated by chains of
element-wise operations (the rectified illumination ``M(u) - gamma (u -
y)``, the cell's ``act(x + conv(x) + x)`` sums, the clamps of ``t`` and of
``u = y / t``). At batch 1 each of those operations is one pass over a
multi-MB map, and together they cost about a fifth of the scene module's
time. The kernels here compute each chain in one pass with the operands
and the operation order of the torch chain, in float32, ``fastmath`` off
(no FMA contraction, no reassociation), so that the values are
bit-identical to it (``tests/test_models/test_ruas_networks.py`` checks
every kernel against the torch chain and the networks against the
authors' code). Maxima and the LeakyReLU follow ATen's definitions (NaN
propagated, ``x > 0 ? x : x * slope``).

They are used only without autograd, outside compilation / tracing /
dispatch modes, on contiguous float32 CPU tensors
(:func:`fused_ok`); numba compiles them on first use (``cache=True``: later
processes load them). Without numba, or with the switch ``numba=False``
(:mod:`cpu_kernels.switches`), the modules keep their torch
chains.
"""
import threading
from typing import Optional

import numpy as np
import torch

from .switches import get_cpu_kernels
from .numba_support import compile_once

from .numba_support import kernel_array, kernel_scope
from .blocked_conv_chain import blocked_layout_ok

__all__ = ['FUSED_MIN_PIXELS', 'fused_ok', 'ruas_kernels', 'same_plain']

_KERNELS: list = []     # [namespace] once compiled, [None] if unusable
_LOCK = threading.Lock()

#: smallest map (H x W) on which the fused kernels are used: below it the
#: few microseconds of each compiled call outweigh the passes they save
#: (RUAS_s, 1 thread: break-even between 148 x 220 and 200 x 300)
FUSED_MIN_PIXELS = 40000


# --------------------------------------------------------------------------
# kernels (plain Python here; compiled by :func:`ruas_kernels`); arrays are
# (N, C, H, W) float32, scalars np.float32
# --------------------------------------------------------------------------
def _max(a, b):
    # torch.maximum: NaN if either is NaN
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


def _leaky(v, slope):
    return v if v > 0 else v * slope


def _local_max_row(x0, x1, has_next, out):
    # one row of local_max: out[j] = max(max(x0[j], x1[j]), max(x0[j + 1],
    # x1[j + 1])), x1 = the next row (zeros below the image), zero right of
    # the image: F.pad(x, (0, 1, 0, 1)), maxima of rows, then of columns
    zero = np.float32(0.0)
    w = out.shape[0]
    if has_next:
        for j in range(w - 1):
            out[j] = _max(_max(x0[j], x1[j]), _max(x0[j + 1], x1[j + 1]))
        out[w - 1] = _max(_max(x0[w - 1], x1[w - 1]), _max(zero, zero))
    else:
        for j in range(w - 1):
            out[j] = _max(_max(x0[j], zero), _max(x0[j + 1], zero))
        out[w - 1] = _max(_max(x0[w - 1], zero), _max(zero, zero))


def _local_max_kernel(x, out):
    """``out = local_max(x)``."""
    nn_, cc, h, _ = x.shape
    for n in range(nn_):
        for c in range(cc):
            for i in range(h):
                nxt = min(i + 1, h - 1)
                _local_max_row(x[n, c, i], x[n, c, nxt], i + 1 < h,
                               out[n, c, i])


def _rectify_kernel(u, y, gamma, out):
    """``out = local_max(u) - gamma * (u - y)``."""
    nn_, cc, h, w = u.shape
    for n in range(nn_):
        for c in range(cc):
            for i in range(h):
                nxt = min(i + 1, h - 1)
                o = out[n, c, i]
                _local_max_row(u[n, c, i], u[n, c, nxt], i + 1 < h, o)
                ur = u[n, c, i]
                yr = y[n, c, i]
                for j in range(w):
                    o[j] = o[j] - gamma * (ur[j] - yr[j])


def _leaky_add_kernel(a, b, slope, out):
    """``out = leaky_relu(a + b)``."""
    nn_, cc, h, w = a.shape
    for n in range(nn_):
        for c in range(cc):
            for i in range(h):
                for j in range(w):
                    out[n, c, i, j] = _leaky(a[n, c, i, j] + b[n, c, i, j],
                                             slope)


def _leaky_add3_kernel(a, b, c_, slope, out):
    """``out = leaky_relu((a + b) + c)``."""
    nn_, cc, h, w = a.shape
    for n in range(nn_):
        for c in range(cc):
            for i in range(h):
                for j in range(w):
                    out[n, c, i, j] = _leaky(
                        (a[n, c, i, j] + b[n, c, i, j]) + c_[n, c, i, j],
                        slope)


def _clamp(v, lo, hi):
    # torch.clamp: min(max(v, lo), hi), NaN propagated
    if v != v:
        return v
    v = v if v > lo else lo
    return v if v < hi else hi


def _illumination_kernel(t, y, t_min, u):
    """In place ``t = clamp(t, t_min, 1)``; ``u = clamp(y / t, 0, 1)``."""
    one = np.float32(1.0)
    zero = np.float32(0.0)
    nn_, cc, h, w = t.shape
    for n in range(nn_):
        for c in range(cc):
            for i in range(h):
                for j in range(w):
                    tv = _clamp(t[n, c, i, j], t_min, one)
                    t[n, c, i, j] = tv
                    u[n, c, i, j] = _clamp(y[n, c, i, j] / tv, zero, one)


class _RUASKernels:
    """The compiled kernels, and torch-tensor wrappers around them."""

    def __init__(self, numba) -> None:
        opts = dict(cache=True, nogil=True, fastmath=False,
                    error_model='numpy', boundscheck=False)
        g = globals()
        for name in ('_max', '_leaky', '_local_max_row', '_clamp'):
            g[name] = numba.njit(inline='always', **opts)(g[name])
        self._local_max = numba.njit(**opts)(_local_max_kernel)
        self._rectify = numba.njit(**opts)(_rectify_kernel)
        self._leaky_add = numba.njit(**opts)(_leaky_add_kernel)
        self._leaky_add3 = numba.njit(**opts)(_leaky_add3_kernel)
        self._illumination = numba.njit(**opts)(_illumination_kernel)

    def local_max(self, x: torch.Tensor,
                  out: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``local_max(x)`` (into ``out`` when given)."""
        out = torch.empty_like(x) if out is None else out
        with kernel_scope('ruas_local_max'):
            self._local_max(kernel_array(x), kernel_array(out))
        return out

    def rectify(self, u: torch.Tensor, y: torch.Tensor,
                gamma: float) -> torch.Tensor:
        """``local_max(u) - gamma * (u - y)``."""
        out = torch.empty_like(u)
        with kernel_scope('ruas_rectify'):
            self._rectify(kernel_array(u), kernel_array(y), np.float32(gamma),
                          kernel_array(out))
        return out

    def leaky_add(self, a: torch.Tensor, b: torch.Tensor, slope: float,
                  out: torch.Tensor) -> torch.Tensor:
        """``out = leaky_relu(a + b, slope)``."""
        with kernel_scope('ruas_leaky_add'):
            self._leaky_add(kernel_array(a), kernel_array(b), np.float32(slope),
                            kernel_array(out))
        return out

    def leaky_add3(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
                   slope: float, out: torch.Tensor) -> torch.Tensor:
        """``out = leaky_relu((a + b) + c, slope)``."""
        with kernel_scope('ruas_leaky_add3'):
            self._leaky_add3(kernel_array(a), kernel_array(b), kernel_array(c),
                             np.float32(slope), kernel_array(out))
        return out

    def illumination(self, t: torch.Tensor, y: torch.Tensor,
                     t_min: float) -> torch.Tensor:
        """Clamps ``t`` to ``[t_min, 1]`` in place and returns
        ``clamp(y / t, 0, 1)``."""
        u = torch.empty_like(y)
        with kernel_scope('ruas_illumination'):
            self._illumination(kernel_array(t), kernel_array(y), np.float32(t_min),
                               kernel_array(u))
        return u


def ruas_kernels() -> Optional[_RUASKernels]:
    """The compiled kernels, or None (numba missing, compilation failed, or
    the switch ``numba=False``)."""
    if not get_cpu_kernels().numba:
        return None
    return compile_once(_KERNELS, _LOCK, _RUASKernels, 'RUAS passes')


def fused_ok(*tensors: torch.Tensor) -> bool:
    """Whether the fused kernels may replace the torch chain on these
    tensors: inference context (as :func:`blocked_layout_ok`: autograd off,
    not compiling / tracing, no dispatch or function mode), every tensor a
    contiguous 4-D float32 CPU tensor of one shape with at least
    :data:`FUSED_MIN_PIXELS` pixels per map, the kernels available.
    """
    if not tensors or not blocked_layout_ok(tensors[0]):
        return False
    shape = tensors[0].shape
    if shape[-2] * shape[-1] < FUSED_MIN_PIXELS:
        return False
    return same_plain(tensors) and ruas_kernels() is not None


def same_plain(tensors) -> bool:
    """Every tensor contiguous float32 on the CPU, of the first one's
    shape (the operand check of a kernel call inside a forward pass whose
    context :func:`fused_ok` has already accepted)."""
    shape = tensors[0].shape
    for t in tensors:
        if t.shape != shape or t.dtype != torch.float32 \
                or t.device.type != 'cpu' or t.layout != torch.strided \
                or not t.is_contiguous():
            return False
    return True
