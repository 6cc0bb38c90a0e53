"""Grouped 3 x 3 convolutions of channels-last maps for training on the CPU
(numba).

TIM's cells use grouped convolutions with one output channel per group: the
depthwise, optionally dilated, convolutions of ``ResidualBlock`` and
``DilConv`` (one input per group) and the convolutions of ``DenseBlock``
over concatenated features (two or three inputs per group). oneDNN computes
them slowly on channels-last maps: its backward of a dilated depthwise
convolution, and the forward and backward of a convolution with several
inputs per group, run several times longer than the arithmetic needs
(timings: ``benchmarks/docs/training_speed.md``).

:class:`FastGroupedConv2d` computes them in compiled passes over the rows
of the NHWC map (``W x C`` contiguous values), each kernel tap a weighted,
shifted copy of an input row with the weights tiled along the row, so every
pass is one vectorised loop:

* forward, two or more inputs per group: per output row, per input of the
  group, the three taps of each kernel row in one pass (a depthwise forward
  stays with oneDNN, which is faster there, and a depthwise convolution
  without dilation entirely: oneDNN is as fast forward and backward);
* backward: the input gradient as the same passes over the output gradient
  with the kernel flipped; the weight gradient (and the bias's) as per-lane
  sums of ``grad * shifted input`` over the rows of an image in float32,
  added up in float64 image by image.

Sums run in another order than oneDNN's: outputs and gradients equal
ATen's within float32 rounding (``tests/test_projects/test_cpu_kernels/test_grouped_conv.py``:
values within 1e-5 of the largest, integer data exactly).

It is taken (:func:`grouped_conv_ok`) for a convolution with one output
channel per group and more than one group, a 3 x 3 kernel, stride 1,
"same" zero padding (``padding == dilation``) and no wider dilation than
the map allows, on a channels-last float32 CPU input while autograd records,
not traced / compiled, with at most :data:`GROUPED_MAX_THREADS` torch
threads (the passes run on one thread). A second-order backward
(``create_graph``) uses ``torch.nn.grad``'s differentiable formulas.
The switch ``grouped_conv=False`` (or ``numba=False``) of
:mod:`cpu_kernels.switches` keeps ATen's convolution.
"""
import threading
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .switches import get_cpu_kernels
from .numba_support import compile_once

from .numba_support import kernel_array, kernel_scope
from .layout import is_channels_last

__all__ = [
    'FastGroupedConv2d', 'GROUPED_MAX_THREADS', 'grouped_conv_ok',
    'is_one_output_grouped_conv'
]

#: most torch threads for which the one-thread passes are used; beyond it
#: oneDNN's parallel kernels are the faster (``python -m
#: cpu_kernels.bench_kernels --mode training``; record
#: docs/results/training_fast_path_kernels.json)
GROUPED_MAX_THREADS = 2

_KERNELS: list = []
_LOCK = threading.Lock()


def _row3(xrow, w0, w1, w2, dc, orow):
    """``orow[j] += x[j - dc] w0[j] + x[j] w1[j] + x[j + dc] w2[j]``
    (added left to right; taps outside the row skipped): one vectorised
    pass over the inner lanes, the ``dc`` lanes at either end apart."""
    wc = orow.shape[0]
    n = wc - 2 * dc
    x0 = xrow[0:n]
    x1 = xrow[dc:dc + n]
    x2 = xrow[2 * dc:2 * dc + n]
    a0 = w0[dc:dc + n]
    a1 = w1[dc:dc + n]
    a2 = w2[dc:dc + n]
    o = orow[dc:dc + n]
    for j in range(n):
        v = o[j]
        v = v + x0[j] * a0[j]
        v = v + x1[j] * a1[j]
        v = v + x2[j] * a2[j]
        o[j] = v
    for j in range(dc):
        v = orow[j]
        v = v + xrow[j] * w1[j]
        v = v + xrow[j + dc] * w2[j]
        orow[j] = v
    for j in range(wc - dc, wc):
        v = orow[j]
        v = v + xrow[j - dc] * w0[j]
        v = v + xrow[j] * w1[j]
        orow[j] = v


def _lanes3(grow, xrow, dc, a0, a1, a2):
    """Per-lane weight-gradient terms of one kernel row: ``a0[j] += g[j]
    x[j - dc]``, ``a1[j] += g[j] x[j]``, ``a2[j] += g[j] x[j + dc]`` for
    the lanes whose tap falls inside the row."""
    wc = grow.shape[0]
    n = wc - dc
    g0 = grow[dc:]
    x0 = xrow[0:n]
    p0 = a0[dc:]
    for j in range(n):
        p0[j] = p0[j] + g0[j] * x0[j]
    for j in range(wc):
        a1[j] = a1[j] + grow[j] * xrow[j]
    g2 = grow[0:n]
    x2 = xrow[dc:]
    p2 = a2[0:n]
    for j in range(n):
        p2[j] = p2[j] + g2[j] * x2[j]


def _rows_forward(xs, wt, d, c, out):
    """``out[n, h] = sum_i sum_kh row3(xs[i, n, h + d (kh - 1)], wt[i,
    kh])``: ``xs`` (groups' inputs, ``(P, N, H, W C)``), ``wt`` (weights
    tiled along the row, ``(P, 3, 3, W C)``), ``out`` (``(N, H, W C)``)."""
    p, nb, h, _ = xs.shape
    dc = d * c
    for n in range(nb):
        for i in range(h):
            orow = out[n, i]
            orow[:] = 0.0
            for ci in range(p):
                for kh in range(3):
                    r = i + d * (kh - 1)
                    if r < 0 or r >= h:
                        continue
                    _row3(xs[ci, n, r], wt[ci, kh, 0], wt[ci, kh, 1],
                          wt[ci, kh, 2], dc, orow)


def _rows_backward(xs, wtf, g, d, c, gx, acc, gw, gb):
    """Input gradient ``gx`` (``(P, N, H, W C)``, passes over ``g`` with
    the flipped tiled kernel ``wtf``), weight gradient ``gw`` (``(P, 3, 3,
    C)``, float64) and bias gradient ``gb`` (``(C,)``, float64) of
    :func:`_rows_forward`; ``acc`` is float32 scratch of ``(P, 3, 3, W
    C)`` lanes (sums over the rows of one image)."""
    p, nb, h, wc = xs.shape
    dc = d * c
    gw[:] = 0.0
    gb[:] = 0.0
    lane_b = np.zeros(wc, np.float32)
    for n in range(nb):
        for ci in range(p):
            for i in range(h):
                orow = gx[ci, n, i]
                orow[:] = 0.0
                for kh in range(3):
                    r = i + d * (kh - 1)
                    if r < 0 or r >= h:
                        continue
                    _row3(g[n, r], wtf[ci, kh, 0], wtf[ci, kh, 1],
                          wtf[ci, kh, 2], dc, orow)
        acc[:] = 0.0
        lane_b[:] = 0.0
        for i in range(h):
            grow = g[n, i]
            for j in range(wc):
                lane_b[j] = lane_b[j] + grow[j]
            for ci in range(p):
                for kh in range(3):
                    r = i + d * (kh - 1)
                    if r < 0 or r >= h:
                        continue
                    _lanes3(grow, xs[ci, n, r], dc, acc[ci, kh, 0],
                            acc[ci, kh, 1], acc[ci, kh, 2])
        for j in range(wc):
            gb[j % c] += lane_b[j]
        for ci in range(p):
            for kh in range(3):
                for kw in range(3):
                    lanes = acc[ci, kh, kw]
                    for j in range(wc):
                        gw[ci, kh, kw, j % c] += lanes[j]


def _split(xf, p, xs):
    """``xs[i, q] = xf[q p + i]``: input ``i`` of every group, one row per
    ``i`` (``xf`` the flat NHWC map of ``P C`` channels)."""
    m = xs.shape[1]
    for i in range(p):
        row = xs[i]
        for q in range(m):
            row[q] = xf[q * p + i]


def _merge(xs, p, xf):
    """The inverse of :func:`_split`: ``xf[q p + i] = xs[i, q]``."""
    m = xs.shape[1]
    for i in range(p):
        row = xs[i]
        for q in range(m):
            xf[q * p + i] = row[q]


def _build(numba):
    opts = dict(cache=True, nogil=True, fastmath=False, error_model='numpy',
                boundscheck=False)
    g = globals()
    for name in ('_row3', '_lanes3'):
        g[name] = numba.njit(**opts)(g[name])
    return tuple(
        numba.njit(**opts)(f)
        for f in (_rows_forward, _rows_backward, _split, _merge))


def _kernels():
    switches = get_cpu_kernels()
    if not (switches.numba and switches.grouped_conv):
        return None
    return compile_once(_KERNELS, _LOCK, _build, 'grouped convolution')


def is_one_output_grouped_conv(module: nn.Module) -> bool:
    """Whether ``module`` is a 2-D convolution the passes can compute: one
    output channel per group, more than one group, a 3 x 3 kernel, stride
    1, zero padding equal to the dilation (output of the input's size)."""
    return isinstance(module, nn.Conv2d) \
        and type(module).forward in (nn.Conv2d.forward,
                                     FastGroupedConv2d.forward) \
        and module.groups > 1 and module.out_channels == module.groups \
        and module.kernel_size == (3, 3) and module.stride == (1, 1) \
        and module.dilation[0] == module.dilation[1] \
        and module.padding == module.dilation \
        and module.padding_mode == 'zeros'


def grouped_conv_ok(conv: nn.Conv2d, x: torch.Tensor) -> bool:
    """Whether :class:`FastGroupedConv2d` computes ``conv(x)`` with the
    compiled passes (see the module docstring for the conditions)."""
    return is_one_output_grouped_conv(conv) and torch.is_grad_enabled() \
        and (x.requires_grad or conv.weight.requires_grad) \
        and x.device.type == 'cpu' and x.dtype == torch.float32 \
        and conv.weight.dtype == torch.float32 and is_channels_last(x) \
        and x.shape[1] == conv.in_channels \
        and x.shape[3] > 2 * conv.dilation[0] \
        and (conv.in_channels > conv.groups or conv.dilation[0] > 1) \
        and torch.get_num_threads() <= GROUPED_MAX_THREADS \
        and not torch.jit.is_tracing() and not torch.jit.is_scripting() \
        and not torch.compiler.is_compiling() and _kernels() is not None


def _split_groups(x: torch.Tensor, groups: int) -> torch.Tensor:
    """``(P, N, H, W C)`` float32 tensor: input ``i`` of every group of the
    channels-last ``x`` (channel ``c P + i`` of group ``c``), one map per
    ``i`` (a compiled copy when ``P > 1``, a view otherwise)."""
    n, cin, h, w = x.shape
    p = cin // groups
    nhwc = x.permute(0, 2, 3, 1)
    if p == 1:
        return nhwc.reshape(1, n, h, w * groups)
    xs = torch.empty((p, n, h, w * groups))
    _kernels()[2](kernel_array(nhwc).reshape(-1), p,
                  kernel_array(xs).reshape(p, -1))
    return xs


def _tile(weight: torch.Tensor, width: int, flip: bool) -> np.ndarray:
    """``(P, 3, 3, W C)`` array: tap ``(kh, kw)`` of input ``i``, the
    ``C`` output channels' weights repeated along a row of ``width``
    pixels (kernel flipped for the input gradient)."""
    w = weight.detach().float()
    if flip:
        w = w.flip(2, 3)
    return np.ascontiguousarray(
        np.tile(w.permute(1, 2, 3, 0).numpy(), (1, 1, 1, width)))


class _GroupedConvFunction(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor,
                bias: Optional[torch.Tensor], dilation: int) -> torch.Tensor:
        groups = weight.shape[0]
        n, cin, h, w = x.shape
        ctx.dilation = dilation
        # the groups' inputs as the passes read them (a view of x when
        # depthwise), kept for the backward
        xs = _split_groups(x, groups)
        ctx.save_for_backward(x, xs, weight, bias)
        if cin == groups:  # depthwise: oneDNN's forward is the faster
            return F.conv2d(x, weight, bias, 1, dilation, dilation, groups)
        out = torch.empty((n, groups, h, w), memory_format=torch.channels_last)
        with kernel_scope('grouped_conv2d'):
            _kernels()[0](kernel_array(xs), _tile(weight, w, False), dilation,
                          groups,
                          kernel_array(out.permute(0, 2, 3, 1)).reshape(
                              n, h, w * groups))
        if bias is not None:
            out += bias.detach().view(1, -1, 1, 1)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, xs, weight, bias = ctx.saved_tensors
        d = ctx.dilation
        needs = ctx.needs_input_grad
        if torch.is_grad_enabled():  # create_graph: differentiable formulas
            return _torch_backward(x, weight, bias, d, grad, needs)
        groups = weight.shape[0]
        n, cin, h, w = x.shape
        p = cin // groups
        g = grad.contiguous(memory_format=torch.channels_last)
        gx = torch.empty((p, n, h, w * groups))
        gw = np.empty((p, 3, 3, groups), np.float64)
        gb = np.empty(groups, np.float64)
        with kernel_scope('grouped_conv2d_backward'):
            _kernels()[1](
                kernel_array(xs), _tile(weight, w, True),
                kernel_array(g.permute(0, 2, 3, 1)).reshape(n, h, w * groups),
                d, groups, kernel_array(gx),
                np.empty((p, 3, 3, w * groups), np.float32), gw, gb)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            if p == 1:
                grad_x = gx.reshape(n, h, w, cin).permute(0, 3, 1, 2)
            else:  # (P, N, H, W C) -> channels-last (N, C P, H, W)
                grad_x = torch.empty((n, cin, h, w),
                                     memory_format=torch.channels_last)
                with kernel_scope('grouped_conv2d_backward'):
                    _kernels()[3](kernel_array(gx).reshape(p, -1), p,
                                  kernel_array(grad_x.permute(
                                      0, 2, 3, 1)).reshape(-1))
        if needs[1]:
            grad_w = torch.from_numpy(gw.transpose(3, 0, 1, 2)).to(
                weight.dtype).contiguous(memory_format=torch.channels_last)
        if bias is not None and needs[2]:
            grad_b = torch.from_numpy(gb).to(bias.dtype)
        return grad_x, grad_w, grad_b, None


def _torch_backward(x, weight, bias, d, grad, needs) -> Tuple:
    groups = weight.shape[0]
    grad_x = grad_w = grad_b = None
    if needs[0]:
        grad_x = torch.nn.grad.conv2d_input(x.shape, weight, grad, 1, d, d,
                                            groups)
    if needs[1]:
        grad_w = torch.nn.grad.conv2d_weight(x, weight.shape, grad, 1, d, d,
                                             groups)
    if bias is not None and needs[2]:
        grad_b = grad.sum((0, 2, 3))
    return grad_x, grad_w, grad_b, None


class FastGroupedConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose training step on channels-last CPU maps runs
    compiled passes (grouped 3 x 3 convolutions with one output per group).

    Same parameters, state-dict keys and function as ``nn.Conv2d``; other
    inputs and configurations take ``nn.Conv2d``'s path
    (:func:`grouped_conv_ok`).
    """

    #: computes exactly ``nn.Conv2d``'s function (BatchNorm folding treats
    #: it as a conv, :mod:`mmfusenas.models.utils.batchnorm_folding`)
    same_function_as_conv = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not grouped_conv_ok(self, x):
            return super().forward(x)
        return _GroupedConvFunction.apply(x, self.weight, self.bias,
                                          self.dilation[0])
