"""Separable depthwise filtering of image planes, with compiled passes on
the CPU (numba).

:func:`separable_filter` correlates every ``(H, W)`` plane of an
``(N, C, H, W)`` tensor with the outer product of two 1-D kernels (first
along the rows, then along the columns), keeping only the positions where
the window fits ("valid": ``(H - K_v + 1) x (W - K_h + 1)``). It is the
filter of the differentiable SSIM (:mod:`mmfusenas.models.losses.
differentiable_ssim`: the 11-tap Gaussian over the five local moments)
and suits any separable window.

On a float32 CPU tensor it runs as two compiled passes per plane, forward
and backward, each over the whole flattened plane (one long vectorised
loop per four taps; the positions whose window crosses a row end are
computed and dropped): the horizontal pass sums shifted copies of the
plane, the vertical pass copies shifted by whole rows. The backward is the
transposed filter (the output gradient spread back over the window: the
same passes over the zero-padded gradient with the taps flipped); it is
itself differentiable, so gradients of any order are available. ATen's
path, two depthwise convolutions, runs the same arithmetic through oneDNN,
which on the CPU spends much of its time converting the planes to and
from its channel layouts (timings: ``python -m cpu_kernels.bench_kernels
--mode training``, ``benchmarks/docs/training_speed.md``).

Sums run in another order than oneDNN's: values equal ATen's within
float32 rounding (``tests/test_projects/test_cpu_kernels/test_separable_filter.py``: within
1e-6 of the plane's range, integer data exactly, gradients against
autograd through the convolutions and against float64).

Conditions for the compiled passes: a float32 CPU input (and kernels), not
traced / scripted / compiled, no Python dispatch or function mode (FLOP
counters see the convolutions), at most :data:`FILTER_MAX_THREADS` torch
threads (the passes run on one thread), numba available, the switches
``separable_filter`` and ``numba`` of :mod:`cpu_kernels.switches`
on; the kernels carry no gradient (constants). Otherwise the two
convolutions run.
"""
import threading

import torch
import torch.nn.functional as F

from .switches import get_cpu_kernels
from .numba_support import compile_once

from .numba_support import kernel_array, kernel_scope
from .blocked_conv_chain import plain_eager_mode

__all__ = ['FILTER_MAX_THREADS', 'separable_filter', 'separable_filter_ok']

#: most torch threads for which the one-thread passes are used (as for the
#: grouped passes; with more threads the convolutions' parallel kernels run)
FILTER_MAX_THREADS = 2

_KERNELS: list = []
_LOCK = threading.Lock()


def _correlate(src, g, stride, dst, n):
    """``dst[i] = sum_k g[k] src[i + k stride]`` for ``i < n``: one
    vectorised pass over ``dst`` per four taps (the first pass writes,
    the later ones add). The shifted sources are slices, so that every
    index is a loop counter (no negative-index handling stops the
    vectorisation)."""
    kk = g.shape[0]
    k = 0
    while k < kk:
        m = min(4, kk - k)
        s0 = src[k * stride:]
        a = g[k]
        if m == 4:
            b, c, d = g[k + 1], g[k + 2], g[k + 3]
            s1 = src[(k + 1) * stride:]
            s2 = src[(k + 2) * stride:]
            s3 = src[(k + 3) * stride:]
            if k == 0:
                for i in range(n):
                    dst[i] = (a * s0[i] + b * s1[i]) + (c * s2[i] +
                                                        d * s3[i])
            else:
                for i in range(n):
                    dst[i] += (a * s0[i] + b * s1[i]) + (c * s2[i] +
                                                         d * s3[i])
        elif m == 3:
            b, c = g[k + 1], g[k + 2]
            s1 = src[(k + 1) * stride:]
            s2 = src[(k + 2) * stride:]
            if k == 0:
                for i in range(n):
                    dst[i] = (a * s0[i] + b * s1[i]) + c * s2[i]
            else:
                for i in range(n):
                    dst[i] += (a * s0[i] + b * s1[i]) + c * s2[i]
        elif m == 2:
            b = g[k + 1]
            s1 = src[(k + 1) * stride:]
            if k == 0:
                for i in range(n):
                    dst[i] = a * s0[i] + b * s1[i]
            else:
                for i in range(n):
                    dst[i] += a * s0[i] + b * s1[i]
        elif k == 0:
            for i in range(n):
                dst[i] = a * s0[i]
        else:
            for i in range(n):
                dst[i] += a * s0[i]
        k += m


def _forward(x, gh, gv, tmp, full, out):
    """``out[p] = (x[p] (*) gh along rows) (*) gv along columns``, valid
    positions; ``x (P, H W)`` planes, ``out (P, Ho, Wo)``. Both passes run
    over the flattened plane (long vectorised loops): the positions whose
    window crosses a row end are computed and dropped. Work arrays ``tmp
    (H W)``, ``full (Ho W)``."""
    ho, wo = out.shape[1], out.shape[2]
    hw = x.shape[1]
    w = hw // (ho + gv.shape[0] - 1)
    kh = gh.shape[0]
    for i in range(hw - kh + 1, hw):
        tmp[i] = 0.0
    for p in range(x.shape[0]):
        _correlate(x[p], gh, 1, tmp, hw - kh + 1)
        _correlate(tmp, gv, w, full, ho * w)
        op = out[p]
        for y in range(ho):
            row = op[y]
            base = y * w
            for j in range(wo):
                row[j] = full[base + j]


def _transpose(g, gh, gv, pad, tpad, out):
    """The adjoint of :func:`_forward`: ``g (P, Ho, Wo)`` spread back over
    each window into ``out (P, H W)``: the gradient zero-padded (rows above
    and below, the dropped positions of each row), then the two passes with
    the flipped taps ``gh``, ``gv``. Work arrays with zero borders: ``pad
    ((Ho + 2 (Kv - 1)) W)``, ``tpad (H W + 2 (Kh - 1))``."""
    ho, wo = g.shape[1], g.shape[2]
    rv = gv.shape[0] - 1
    rh = gh.shape[0] - 1
    hw = out.shape[1]
    w = hw // (ho + rv)
    for p in range(g.shape[0]):
        gp = g[p]
        for y in range(ho):
            src = gp[y]
            base = (rv + y) * w
            for j in range(wo):
                pad[base + j] = src[j]
        _correlate(pad, gv, w, tpad[rh:], hw)
        _correlate(tpad, gh, 1, out[p], hw)


def _build(numba):
    opts = dict(cache=True, nogil=True, fastmath=False, error_model='numpy',
                boundscheck=False)
    # the passes call it: compiled first, so that they compile against it
    globals()['_correlate'] = numba.njit(**opts)(_correlate)
    return tuple(numba.njit(**opts)(f) for f in (_forward, _transpose))


def _kernels():
    switches = get_cpu_kernels()
    if not (switches.numba and switches.separable_filter):
        return None
    return compile_once(_KERNELS, _LOCK, _build, 'separable filter')


def separable_filter_ok(x: torch.Tensor, horizontal: torch.Tensor,
                        vertical: torch.Tensor) -> bool:
    """Whether :func:`separable_filter` runs the compiled passes for these
    arguments (see the module docstring for the conditions)."""
    return (x.device.type == 'cpu' and x.dtype == torch.float32
            and x.layout == torch.strided
            and horizontal.dtype == torch.float32
            and vertical.dtype == torch.float32
            and not horizontal.requires_grad and not vertical.requires_grad
            and torch.get_num_threads() <= FILTER_MAX_THREADS
            and plain_eager_mode() and _kernels() is not None)


def _planes(x: torch.Tensor, flat: bool = False):
    """``x`` as a contiguous ``(P, H, W)`` array for the kernels
    (``(P, H W)`` with ``flat``)."""
    n, c, h, w = x.shape
    shape = (n * c, h * w) if flat else (n * c, h, w)
    return kernel_array(x.contiguous()).reshape(shape)


class _FilterFunction(torch.autograd.Function):
    """The valid separable filter; its backward is :class:`_Transpose`."""

    @staticmethod
    def forward(ctx, x, horizontal, vertical):
        n, c, h, w = x.shape
        kh, kv = horizontal.numel(), vertical.numel()
        ho, wo = h - kv + 1, w - kh + 1
        ctx.save_for_backward(horizontal, vertical)
        ctx.size = (h, w)
        out = x.new_empty((n, c, ho, wo))
        with kernel_scope('separable_filter'):
            _kernels()[0](_planes(x, flat=True), kernel_array(horizontal),
                          kernel_array(vertical),
                          x.new_empty(h * w).numpy(),
                          x.new_empty(ho * w).numpy(),
                          kernel_array(out).reshape(n * c, ho, wo))
        return out

    @staticmethod
    def backward(ctx, grad):
        horizontal, vertical = ctx.saved_tensors
        return _Transpose.apply(grad, horizontal, vertical,
                                ctx.size), None, None


class _Transpose(torch.autograd.Function):
    """The adjoint of the filter; its backward is the filter again."""

    @staticmethod
    def forward(ctx, g, horizontal, vertical, size):
        n, c, ho, wo = g.shape
        h, w = size
        kh, kv = horizontal.numel(), vertical.numel()
        ctx.save_for_backward(horizontal, vertical)
        out = g.new_empty((n, c, h, w))
        with kernel_scope('separable_filter_backward'):
            _kernels()[1](_planes(g),
                          kernel_array(horizontal.flip(0)),
                          kernel_array(vertical.flip(0)),
                          g.new_zeros((ho + 2 * (kv - 1)) * w).numpy(),
                          g.new_zeros(h * w + 2 * (kh - 1)).numpy(),
                          kernel_array(out).reshape(n * c, h * w))
        return out

    @staticmethod
    def backward(ctx, grad):
        horizontal, vertical = ctx.saved_tensors
        return _FilterFunction.apply(grad, horizontal, vertical), None, \
            None, None


def separable_filter(x: torch.Tensor, horizontal: torch.Tensor,
                     vertical: torch.Tensor) -> torch.Tensor:
    """Valid separable correlation of every plane of ``x``.

    ``out[n, c, i, j] = sum_{a, b} vertical[a] horizontal[b]
    x[n, c, i + a, j + b]`` (no padding; pad ``x`` first for a same-size
    output).

    Args:
        x (Tensor): ``(N, C, H, W)``, any memory format.
        horizontal (Tensor): ``(K_h,)`` taps along a row (``W``).
        vertical (Tensor): ``(K_v,)`` taps along a column (``H``).

    Returns:
        Tensor: ``(N, C, H - K_v + 1, W - K_h + 1)``, contiguous (NCHW).

    Raises:
        ValueError: ``x`` not 4-D, a kernel not 1-D or longer than the
            plane.
    """
    if x.dim() != 4 or horizontal.dim() != 1 or vertical.dim() != 1:
        raise ValueError(
            f'separable_filter expects an (N, C, H, W) input and two 1-D '
            f'kernels, got {tuple(x.shape)}, {tuple(horizontal.shape)} and '
            f'{tuple(vertical.shape)}')
    if horizontal.numel() > x.shape[3] or vertical.numel() > x.shape[2]:
        raise ValueError(
            f'separable_filter: the {vertical.numel()} x '
            f'{horizontal.numel()} window does not fit the '
            f'{x.shape[2]} x {x.shape[3]} planes')
    if separable_filter_ok(x, horizontal, vertical):
        return _FilterFunction.apply(x, horizontal.contiguous(),
                                     vertical.contiguous())
    c = x.shape[1]
    h_w = horizontal.to(x).view(1, 1, 1, -1).expand(c, 1, 1, -1)
    v_w = vertical.to(x).view(1, 1, -1, 1).expand(c, 1, -1, 1)
    if x.device.type == 'cpu' and c > 1:
        # oneDNN's depthwise convolutions run forward and backward about
        # twice as fast on channels-last maps (same values)
        x = x.contiguous(memory_format=torch.channels_last)
        h_w = h_w.contiguous(memory_format=torch.channels_last)
        v_w = v_w.contiguous(memory_format=torch.channels_last)
    return F.conv2d(F.conv2d(x, h_w, groups=c), v_w, groups=c).contiguous()
