"""Conv / ReLU chains run in oneDNN's blocked layout, with the same values.

On CPU, PyTorch runs a float32 3 x 3 convolution of an NCHW tensor through
oneDNN: the input is reordered into the blocked layout the convolution
kernel reads (e.g. ``nChw16c``, channels in blocks of 16), the kernel
writes a blocked output, and the output is reordered back to NCHW. In a
chain ``conv -> ReLU -> conv -> ...`` each intermediate map is thus
reordered out and straight back in: at 64 channels that is two full passes
over the map per layer, about a third of the chain's time at batch 1.

:func:`run_conv_chain` runs such a ``nn.Sequential`` on oneDNN (``mkldnn``)
tensors instead, so that every intermediate map stays blocked and only the
chain's output is reordered back. Each convolution is the **same oneDNN
primitive on the same blocked data** as in the NCHW call, and ReLU is
element-wise, so the output is bit-identical to ``layers(x)`` (tested in
``tests/test_projects/test_cpu_kernels/test_blocked_conv_chain.py``). The blocked path is taken
only where that holds: inference (autograd off), not while compiling,
exporting or tracing, no Python dispatch / function mode active (the
FLOP counter and memory probes see the NCHW calls), a float32 CPU input
that is NCHW-contiguous (or strided in another non-channels-last way, e.g.
the real part of an FFT result: made contiguous first, as ATen's oneDNN
convolution does), oneDNN enabled, and for every convolution that PyTorch
itself
would send to oneDNN for that input (``use_mkldnn`` of ATen's
``Convolution.cpp``: not 1 x 1, and batch > 1 or more than 20480 input
elements); a convolution that would run on PyTorch's native kernel runs on
it (NCHW), and everything after the last convolution runs on NCHW tensors.

Where a chain has a convolution that Winograd's algorithm computes with
fewer multiply-adds (:mod:`~cpu_kernels.winograd_conv`: 3 x 3,
at least 16 input and 24 output channels, a map of at least 128 x 128
pixels), the chain runs on channels-last maps instead: those convolutions
(with a ReLU that follows them) by
:func:`~cpu_kernels.winograd_conv.winograd_conv2d`, a convolution
to one to three channels as one product over the taps
(:mod:`~cpu_kernels.tap_product_conv`), the others by oneDNN on
the channels-last maps. Its output then equals ``layers(x)`` within float
rounding (Winograd's transforms and the tap products sum in another
order), not bit for bit; the switch ``winograd=False``
(:mod:`cpu_kernels.switches`) keeps the blocked path above.

:func:`channels_last_at_inference` is the other way to spare the reorders,
for networks that are not plain chains (reflection padding, PReLU,
attention, multi-scale cells: the TIM networks; HBL's): in the same
inference context it hands the network its input in channels-last (NHWC)
layout, in which oneDNN reads and writes the maps as they are and every
later map stays channels-last (and
:func:`~cpu_kernels.direct_conv.conv2d_at_inference` runs a wide
3 x 3 convolution of such a map by Winograd's algorithm). The convolutions
then sum in another order: outputs equal the NCHW pass within float
rounding (``test_tim_networks.py``: within 1e-5 of the authors' networks;
``test_hbl_networks.py``), not bit for bit.
"""
from typing import Iterable

import torch
import torch.nn as nn
from torch.utils._python_dispatch import _get_current_dispatch_mode

from .switches import get_cpu_kernels
from .tap_product_conv import tap_product_conv2d, tap_product_ok
from .winograd_conv import winograd_conv2d, winograd_ok

__all__ = [
    'blocked_layout_ok', 'channels_last_at_inference',
    'channels_last_inference_ok', 'channels_last_strides', 'plain_eager_mode',
    'run_conv_chain'
]

#: ATen runs a batch-1 convolution of at most this many input elements on
#: its native kernel instead of oneDNN (``use_mkldnn``)
_NATIVE_MAX_NUMEL = 20480


def plain_eager_mode() -> bool:
    """Whether operators run as plain eager calls: not compiling, tracing
    or scripting, no Python dispatch or function mode active (FLOP
    counters and memory probes are such modes: a kernel of its own would
    hide its operators from them)."""
    return (not torch.compiler.is_compiling()
            and not torch.jit.is_tracing()
            and not torch.jit.is_scripting()
            and _get_current_dispatch_mode() is None
            and not torch._C._is_torch_function_mode_enabled())


def _inference_map_ok(x: torch.Tensor) -> bool:
    """Autograd off, plain eager calls, oneDNN available and enabled, ``x``
    a 4-D float32 CPU (strided) tensor."""
    return (not torch.is_grad_enabled() and plain_eager_mode()
            and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled
            and x.layout == torch.strided and x.device.type == 'cpu'
            and x.dtype == torch.float32 and x.dim() == 4)


def blocked_layout_ok(x: torch.Tensor) -> bool:
    """Whether a chain may run blocked on ``x`` (context and input only).

    Args:
        x (Tensor): the chain's input.

    Returns:
        bool: autograd off, not compiling / tracing, no dispatch or
        function mode, oneDNN available and enabled, ``x`` a contiguous
        4-D float32 CPU (strided) tensor.
    """
    return _inference_map_ok(x) and x.is_contiguous()


def channels_last_inference_ok(x: torch.Tensor) -> bool:
    """Whether ``x`` is a channels-last map at inference: the context of
    :func:`blocked_layout_ok` and a 4-D float32 CPU (strided) tensor in
    channels-last memory format."""
    return _inference_map_ok(x) and x.is_contiguous(
        memory_format=torch.channels_last)


def channels_last_at_inference(x: torch.Tensor) -> torch.Tensor:
    """``x`` in channels-last layout where :func:`blocked_layout_ok` holds
    (inference on a contiguous 4-D float32 CPU tensor, oneDNN enabled);
    otherwise ``x`` itself.

    The switch ``channels_last=False`` (:mod:`cpu_kernels.switches`)
    keeps NCHW (the authors' summation order, bit-identical outputs).
    """
    if blocked_layout_ok(x) and get_cpu_kernels().channels_last:
        return channels_last_strides(x)
    return x


def channels_last_strides(x: torch.Tensor) -> torch.Tensor:
    """``x`` (a 4-D strided tensor) in channels-last memory format, with
    channels-last strides also where they are ambiguous.

    A one-channel NCHW map is channels-last already, so ``x.contiguous(
    memory_format=torch.channels_last)`` returns it as it is, with its NCHW
    strides; a convolution of it then writes an NCHW output (oneDNN takes
    the output's layout from the strides), which the next layer of a
    channels-last chain has to reorder (at 64 output channels and
    252 x 252, a copy about as long as the convolution). This returns the
    same memory viewed with the strides ``(H W, 1, W, 1)`` instead, so the
    convolution writes channels-last.
    """
    x = x.contiguous(memory_format=torch.channels_last)
    n, c, h, w = x.shape
    if c == 1 and x.stride(1) != 1:
        x = x.as_strided((n, 1, h, w), (h * w, 1, w, 1))
    return x


def _runs_on_onednn(conv: nn.Module, n: int, h: int, w: int) -> bool:
    """Whether ATen runs ``conv`` on oneDNN for an NCHW ``(n, C, h, w)``
    float32 input, and the blocked call is the same call: a plain zero-
    padded ``nn.Conv2d`` with explicit padding that keeps ``h x w``,
    stride 1, contiguous float32 weights."""
    if type(conv) is not nn.Conv2d or conv.padding_mode != 'zeros' \
            or isinstance(conv.padding, str) or conv.stride != (1, 1) \
            or conv.groups != 1:
        return False
    kh, kw = conv.kernel_size
    dh, dw = conv.dilation
    if (kh, kw) == (1, 1) or conv.padding != (dh * (kh - 1) // 2,
                                               dw * (kw - 1) // 2) \
            or kh % 2 == 0 or kw % 2 == 0:
        return False
    wt = conv.weight
    if wt.dtype != torch.float32 or wt.device.type != 'cpu' \
            or not wt.is_contiguous() or wt.layout != torch.strided:
        return False
    if conv.bias is not None and conv.bias.dtype != torch.float32:
        return False
    return (n > 1 or (kh > 3 and kw > 3)
            or n * conv.in_channels * h * w > _NATIVE_MAX_NUMEL)


def run_conv_chain(layers: Iterable[nn.Module],
                   x: torch.Tensor) -> torch.Tensor:
    """``layers(x)`` for a chain of ``nn.Conv2d`` and activation layers,
    intermediate maps kept in oneDNN's blocked layout where exact.

    Args:
        layers (Iterable[nn.Module]): e.g. an ``nn.Sequential`` of
            ``Conv2d`` / ``ReLU`` / other activation modules, applied in
            order.
        x (Tensor): ``(N, C, H, W)`` input.

    Returns:
        Tensor: the chain's output, an NCHW tensor equal to
        ``nn.Sequential(*layers)(x)`` bit for bit.
    """
    layers = list(layers)
    if x.layout == torch.strided and x.dim() == 4 and \
            not x.is_contiguous() and \
            not x.is_contiguous(memory_format=torch.channels_last) and \
            blocked_layout_ok(x.contiguous()):
        # e.g. the real part of an FFT result: ATen's oneDNN convolution
        # makes such an input contiguous (NCHW) first, so does the chain
        x = x.contiguous()
    if not blocked_layout_ok(x):
        for layer in layers:
            x = layer(x)
        return x
    n, _, h, w = x.shape
    if any(winograd_ok(m, (n, m.in_channels, h, w)) for m in layers
           if isinstance(m, nn.Conv2d)):
        return _run_channels_last(layers, x)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    last = convs[-1] if convs else -1
    out = x
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Conv2d) and _runs_on_onednn(layer, n, h, w):
            if not out.is_mkldnn:
                out = out.to_mkldnn()
            out = torch.mkldnn_convolution(out, layer.weight, layer.bias,
                                           layer.padding, layer.stride,
                                           layer.dilation, layer.groups)
        elif out.is_mkldnn and i < last and type(layer) is nn.ReLU:
            out = torch.relu_(out)  # a fresh map of this chain
        else:
            if out.is_mkldnn:
                out = out.to_dense()
            out = layer(out)
    return out.to_dense() if out.is_mkldnn else out


def _run_channels_last(layers: list, x: torch.Tensor) -> torch.Tensor:
    """The chain on channels-last maps: Winograd's convolutions (with the
    ReLU that follows one) where :func:`winograd_ok` holds, convolutions
    to few channels as one product over the taps where
    :func:`tap_product_ok` holds, the layers' own calls on the
    channels-last maps otherwise; the output NCHW. (A tap product's
    output, of at most three channels, is left as it is: no later layer
    takes a kernel that needs it channels-last.)"""
    out = channels_last_strides(x)
    i = 0
    while i < len(layers):
        layer = layers[i]
        relu = i + 1 < len(layers) and type(layers[i + 1]) is nn.ReLU
        if isinstance(layer, nn.Conv2d) and winograd_ok(
                layer, tuple(out.shape)):
            out = winograd_conv2d(out, layer, relu=relu)
            i += 2 if relu else 1
        elif isinstance(layer, nn.Conv2d) and tap_product_ok(
                layer, tuple(out.shape)):      # few outputs: one product
            out = tap_product_conv2d(out, layer)
            i += 1
        elif type(layer) is nn.ReLU and (    # in place on a map made here
                out.untyped_storage().data_ptr() !=
                x.untyped_storage().data_ptr()):
            out = torch.relu_(out)
            i += 1
        else:
            out = layer(out).contiguous(memory_format=torch.channels_last)
            i += 1
    return out.contiguous()
