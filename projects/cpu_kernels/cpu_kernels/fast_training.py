"""Fast training path for narrow, full-resolution networks on the CPU.

Fusion networks such as TIM's N_F run 8-48 channels at the input
resolution. On a CPU their training step is dominated not by arithmetic but
by passes over full-size maps, and three of PyTorch's defaults make those
passes slow:

* **memory layout**: for an NCHW tensor, oneDNN reorders every convolution's
  input into its blocked layout and the output back. In channels-last
  (NHWC) layout it works on the tensors as they are; a 3 x 3 convolution of
  8 channels at 128 x 128 runs its forward and backward about twice as fast;
* **PReLU backward**: ATen writes the slope's gradient as a full-size map
  and sums it afterwards; :class:`FastPReLU` computes the input gradient and
  the slope's sum in one compiled pass (numba);
* **1 x 1 convolutions in channels-last**: ATen sends them to its slow
  im2col path; :class:`PointwiseConv2d` computes them as the matrix product
  they are (over the channel axis of the NHWC view; while training, a
  product with 8 result columns on pixel pairs, where MKL is faster);
* **grouped 3 x 3 convolutions** with one output per group (dilated
  depthwise, the dense blocks' grouped convolutions): oneDNN's backward,
  and its forward with several inputs per group, are slow in channels-last;
  :class:`~cpu_kernels.grouped_conv.FastGroupedConv2d` computes
  them in compiled row passes (numba).

:func:`fast_training_swaps` lists the class swaps of a network:
``nn.PReLU`` (one slope), 1 x 1 and one-output-per-group ``nn.Conv2d``
modules become these subclasses (same parameters, buffers, hooks and
state-dict keys). :func:`cpu_kernels.apply_cpu_kernels` with
``training=True`` applies them, stores the 4-D parameters channels-last and
feeds the network channels-last inputs, on the pre-module of the compound
fusion models (and on a bare network); ``remove_cpu_kernels`` undoes it.

What stays equal: the forward values of :class:`FastPReLU` (the same
``torch.prelu`` kernel) and its input gradient (ATen's rule ``x > 0 ? g :
w g``) are bit-identical; the slope's gradient is the same sum accumulated
in float64 (16 running sums, added at the end) instead of float32; the
channels-last convolutions and the matrix products sum in another order.
Outputs and gradients of a converted network equal the original's within
float32 rounding, amplified by batch normalisation
(``tests/test_projects/test_cpu_kernels/test_fast_training.py``: outputs within 1e-4,
gradients within 1e-3 of the gradient norm).

The compiled pass is used on float32 CPU tensors while autograd records
(not under ``create_graph``: a second-order backward, as in DARTS'
second-order step, runs a differentiable torch formula instead); without
numba or with the switch ``numba=False``
(:mod:`cpu_kernels.switches`) :class:`FastPReLU` is ATen's PReLU.
"""
import threading
from typing import List, Optional, Tuple, Type

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .switches import get_cpu_kernels
from .numba_support import compile_once

from .numba_support import kernel_array
from .grouped_conv import FastGroupedConv2d, is_one_output_grouped_conv
from .layout import is_channels_last

__all__ = [
    'FastPReLU', 'PAIRED_COLUMNS', 'PointwiseConv2d', 'fast_training_swaps',
    'paired_mm', 'paired_products_ok', 'paired_weight_grad',
    'is_channels_last', 'is_pointwise_conv', 'prelu_backward',
    'to_channels_last'
]

_KERNELS: list = []
_LOCK = threading.Lock()


def _prelu_backward_kernel(x, g, w, gi):
    # ATen's rule for the input gradient (x > 0 ? g : w * g); the slope's
    # gradient sum(x * g over x <= 0) accumulated in float64, in 16 lanes
    # (one running sum would make every element wait for the previous
    # addition), added up at the end
    n = x.size
    lanes = np.zeros(16)
    m = n - n % 16
    for s in range(0, m, 16):
        for k in range(16):
            xv = x[s + k]
            gv = g[s + k]
            if xv > 0:
                gi[s + k] = gv
            else:
                gi[s + k] = w * gv
                lanes[k] += xv * gv
    acc = 0.0
    for i in range(m, n):
        xv = x[i]
        gv = g[i]
        if xv > 0:
            gi[i] = gv
        else:
            gi[i] = w * gv
            acc += xv * gv
    for k in range(16):
        acc += lanes[k]
    return acc


def _build(numba):
    return numba.njit(
        cache=True,
        nogil=True,
        fastmath=False,
        error_model='numpy',
        boundscheck=False)(_prelu_backward_kernel)


def _kernel():
    if not get_cpu_kernels().numba:
        return None
    return compile_once(_KERNELS, _LOCK, _build, 'PReLU backward')


def _flat_views(x: torch.Tensor, g: torch.Tensor) -> Optional[tuple]:
    """A new gradient ``gi`` in ``x``'s layout, and flat views of ``x``,
    ``g`` (made to follow ``x``'s layout) and ``gi`` in one element order;
    None for a layout without one."""
    if x.is_contiguous():
        fmt = torch.contiguous_format
    elif is_channels_last(x):
        fmt = torch.channels_last
    else:
        return None
    g = g.contiguous(memory_format=fmt)
    gi = torch.empty_like(x, memory_format=fmt)
    if fmt is torch.channels_last:
        return (gi, ) + tuple(
            t.permute(0, 2, 3, 1).reshape(-1) for t in (x, g, gi))
    return gi, x.reshape(-1), g.reshape(-1), gi.reshape(-1)


def prelu_backward(x: torch.Tensor, weight: torch.Tensor, grad: torch.Tensor
                   ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gradients of ``torch.prelu(x, weight)`` (one slope) w.r.t. ``x`` and
    ``weight``, given the output gradient ``grad``.

    One compiled pass when possible (float32 CPU tensors of one shape, a
    contiguous or channels-last ``x``, numba available, autograd not
    recording); otherwise the differentiable torch formula. Both give ATen's
    input gradient exactly.

    Args:
        x (Tensor): the PReLU input.
        weight (Tensor): the slope, one element.
        grad (Tensor): gradient of the output, ``x``'s shape.

    Returns:
        tuple[Tensor, Tensor]: ``(grad_x, grad_weight)``.
    """
    kernel = None
    if not torch.is_grad_enabled() and x.device.type == 'cpu' \
            and x.dtype == torch.float32 and grad.dtype == torch.float32 \
            and grad.shape == x.shape and weight.numel() == 1:
        kernel = _kernel()
    views = _flat_views(x, grad) if kernel is not None else None
    if views is None:
        grad_x = torch.where(x > 0, grad, weight * grad)
        grad_w = (x.clamp(max=0) * grad).sum().reshape(weight.shape)
        return grad_x, grad_w
    grad_x, xf, gf, gif = views
    acc = kernel(kernel_array(xf), kernel_array(gf),
                 np.float32(weight.detach().reshape(()).item()),
                 kernel_array(gif))
    return grad_x, torch.full_like(weight, acc)


class _PReLUFunction(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return torch.prelu(x, weight)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad_x, grad_w = prelu_backward(x, weight, grad)
        return (grad_x if ctx.needs_input_grad[0] else None,
                grad_w if ctx.needs_input_grad[1] else None)


class FastPReLU(nn.PReLU):
    """``nn.PReLU`` whose backward (one slope, CPU) is one compiled pass.

    Same parameters and forward values as ``nn.PReLU``; see the module
    docstring for what equals what. A per-channel PReLU
    (``num_parameters > 1``), a tensor that records no gradient and a
    traced / compiled call take ``nn.PReLU``'s path.
    """

    #: computes exactly ``nn.PReLU``'s function (for the exact rewrite
    #: :func:`mmfusenas.apis.deploy.prelu_to_leaky_relu`)
    same_function_as_prelu = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.num_parameters != 1 or not torch.is_grad_enabled() \
                or not (x.requires_grad or self.weight.requires_grad) \
                or x.device.type != 'cpu' or torch.jit.is_tracing() \
                or torch.jit.is_scripting() \
                or torch.compiler.is_compiling() or _kernel() is None:
            return super().forward(x)
        return _PReLUFunction.apply(x, self.weight)


#: a matrix product whose result has this many columns is computed on pixel
#: pairs (:func:`paired_mm`): MKL is faster on pairs at 8 result columns,
#: not at 4, 16 or 32 (record docs/results/training_fast_path_kernels.json,
#: benchmarks/docs/training_speed.md)
PAIRED_COLUMNS = 8


def paired_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` for a tall ``a`` (rows: pixels) and a narrow ``b``.

    MKL computes a product with 8 result columns (8 output channels of a
    1 x 1 convolution over a channels-last map) at a fraction of its rate
    with 16. With :data:`PAIRED_COLUMNS` columns and an even number of
    rows, the rows are taken two at a time: ``a`` viewed as
    ``(M / 2, 2 K)`` times the block-diagonal ``diag(b, b)`` is ``a @ b``
    viewed as ``(M / 2, 2 N)`` — the same memory, twice the multiply-adds
    (the added terms are exact zeros), yet faster. Values equal
    ``a @ b`` within float32 rounding; differentiable like ``torch.mm``.

    Args:
        a (Tensor): ``(M, K)``, rows contiguous.
        b (Tensor): ``(K, N)``.

    Returns:
        Tensor: ``(M, N)``.
    """
    m, k = a.shape
    n = b.shape[1]
    if n != PAIRED_COLUMNS or m % 2 or not a.is_contiguous():
        return torch.mm(a, b)
    return torch.mm(a.view(m // 2, 2 * k),
                    torch.block_diag(b, b)).view(m, n)


def paired_weight_grad(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``x^T g`` (``(K, N)``, the weight gradient of ``x @ w``) for tall
    ``x (M, K)``, ``g (M, N)``; with :data:`PAIRED_COLUMNS` columns in
    ``g``, over pixel pairs: the two diagonal blocks of
    ``x2^T g2`` (``x2``, ``g2`` the ``(M / 2, 2 .)`` views) added."""
    m, k = x.shape
    n = g.shape[1]
    if n != PAIRED_COLUMNS or m % 2 or not (x.is_contiguous()
                                              and g.is_contiguous()):
        return torch.mm(x.t(), g)
    r = torch.mm(x.view(m // 2, 2 * k).t(), g.view(m // 2, 2 * n))
    return r[:k, :n] + r[k:, n:]


def paired_products_ok(x: torch.Tensor) -> bool:
    """Whether :class:`PointwiseConv2d` uses the pixel-pair products for
    the channels-last ``x``: while autograd records, float32 on the CPU,
    not traced / compiled, the switch ``paired_products`` on
    (:mod:`cpu_kernels.switches`)."""
    return torch.is_grad_enabled() and x.device.type == 'cpu' \
        and x.dtype == torch.float32 and not torch.jit.is_tracing() \
        and not torch.jit.is_scripting() \
        and not torch.compiler.is_compiling() \
        and get_cpu_kernels().paired_products


class _PointwiseFunction(torch.autograd.Function):
    """``x (P, Cin) @ w (Cout, Cin)^T + b`` with every product on pixel
    pairs where its result is narrow; the backward is written with torch
    operators, so a second-order backward differentiates it."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        out = paired_mm(x, weight.t())
        return out + bias if bias is not None else out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad = grad.contiguous()
        gx = paired_mm(grad, weight) if needs[0] else None
        gw = paired_weight_grad(x, grad).t() if needs[1] else None
        gb = grad.sum(0) if ctx.has_bias and needs[2] else None
        return gx, gw, gb


class PointwiseConv2d(nn.Conv2d):
    """``nn.Conv2d`` (1 x 1, stride 1, no padding, one group) that computes
    a channels-last input as a matrix product over its channel axis.

    While autograd records (training, :func:`paired_products_ok`), the
    products with :data:`PAIRED_COLUMNS` result columns —
    forward, input gradient and weight gradient each on its own — run on
    pixel pairs (:func:`paired_mm`); the switch ``paired_products=False``
    keeps ``F.linear``. Other inputs take ``nn.Conv2d``'s path. The output
    is channels-last too.
    """

    #: computes exactly ``nn.Conv2d``'s function (BatchNorm folding treats
    #: it as a conv, :mod:`mmfusenas.models.utils.batchnorm_folding`)
    same_function_as_conv = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if is_channels_last(x) and not torch.jit.is_tracing() \
                and not torch.jit.is_scripting():
            weight = self.weight.reshape(self.out_channels, self.in_channels)
            nhwc = x.permute(0, 2, 3, 1)
            if paired_products_ok(x):
                n, h, w, c = nhwc.shape
                out = _PointwiseFunction.apply(
                    nhwc.reshape(n * h * w, c), weight, self.bias)
                return out.view(n, h, w, -1).permute(0, 3, 1, 2)
            out = F.linear(nhwc, weight, self.bias)
            return out.permute(0, 3, 1, 2)
        return super().forward(x)


def is_pointwise_conv(module: nn.Module) -> bool:
    """Whether ``module`` is exactly an ``nn.Conv2d`` with a 1 x 1 kernel,
    stride 1, no padding or dilation, one group and zero padding mode."""
    return type(module) is nn.Conv2d and module.kernel_size == (1, 1) \
        and module.stride == (1, 1) and module.padding == (0, 0) \
        and module.dilation == (1, 1) and module.groups == 1 \
        and module.padding_mode == 'zeros'


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """A 4-D tensor in channels-last layout (others unchanged)."""
    return x.contiguous(memory_format=torch.channels_last) \
        if x.dim() == 4 else x


def fast_training_swaps(model: nn.Module) -> List[Tuple[str, Type]]:
    """The class swaps of the fast training path in ``model``.

    Modules whose type is exactly ``nn.PReLU`` with one slope get
    :class:`FastPReLU`; exactly ``nn.Conv2d`` with a 1 x 1 kernel, stride
    1, no padding and one group :class:`PointwiseConv2d`; exactly
    ``nn.Conv2d`` with a 3 x 3 kernel, one output per group and "same"
    zero padding (stride 1)
    :class:`~cpu_kernels.grouped_conv.FastGroupedConv2d`. Nothing is
    changed here: :func:`cpu_kernels.apply_cpu_kernels`
    (``training=True``) swaps the classes and records it.

    Args:
        model (nn.Module): the network.

    Returns:
        list[tuple[str, type]]: ``(qualified name, kernel class)``, the
        PReLUs first, then the 1 x 1 and the grouped convolutions.
    """
    modules = list(model.named_modules())
    swaps = [(name, FastPReLU) for name, m in modules
             if type(m) is nn.PReLU and m.num_parameters == 1]
    swaps += [(name, PointwiseConv2d) for name, m in modules
              if is_pointwise_conv(m)]
    swaps += [(name, FastGroupedConv2d) for name, m in modules
              if type(m) is nn.Conv2d and is_one_output_grouped_conv(m)]
    return swaps
