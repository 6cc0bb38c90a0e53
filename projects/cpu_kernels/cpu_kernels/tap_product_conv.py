"""Convolutions with few output channels as one matrix product over the taps.

A 3 x 3 convolution from many channels to one, two or three (the last
layer of HQS's proxies and denoisers, of RUAS's noise estimator, of HBL's
decoder) is slow in oneDNN: its kernels compute in blocks of 8 or 16 output
channels, so at 64 -> 1 channels it reaches a few G multiply-adds per
second. :func:`tap_product_conv2d` computes it from a channels-last map in
two steps instead:

1. one matrix product ``Y = W X^T``: ``X`` the ``(N H W, C)`` pixels of the
   map as they lie in memory, ``W`` the ``(k_h k_w C_out, C)`` kernel with
   the taps as rows, so ``Y`` holds, for every tap and output channel, an
   ``H x W`` map of that tap's contribution at every input pixel (MKL's
   GEMM at its arithmetic rate, one pass over the map);
2. the output is the bias plus, for every tap, its map shifted by the
   tap's offset (``dilation x (i, j) - padding``), added where it lies
   inside (zero padding without a padded copy): ``k_h k_w`` additions of
   contiguous ``H x W`` maps.

The sums run over the input channels first, then over the taps: the values
equal oneDNN's within float rounding, not bit for bit (against the float64
convolution both err by less than 3e-7 of the sum of |weight| x |input|
per output, ``tests/test_projects/test_cpu_kernels/test_tap_product_conv.py``). It is used
(:func:`tap_product_ok`) at CPU inference on channels-last maps where a
plain ``nn.Conv2d`` (stride 1, one
group, zero padding of at most the kernel's reach) has at most
:data:`TAP_PRODUCT_MAX_OUT_CHANNELS` output and at least
:data:`TAP_PRODUCT_MIN_CHANNELS` input channels on a map of at least
:data:`TAP_PRODUCT_MIN_PIXELS` pixels, never with the
switch ``tap_products=False`` of :mod:`cpu_kernels.switches`
(oneDNN's convolution). Callers:
:func:`~cpu_kernels.blocked_conv_chain.run_conv_chain` (its
channels-last path) and
:func:`~cpu_kernels.direct_conv.conv2d_at_inference`.
"""
from typing import Tuple

import torch
import torch.nn as nn

from .module_hooks import has_forward_hooks
from .switches import get_cpu_kernels
from .winograd_conv import check_channels_last_map

__all__ = [
    'TAP_PRODUCT_MAX_OUT_CHANNELS', 'TAP_PRODUCT_MIN_CHANNELS',
    'TAP_PRODUCT_MIN_PIXELS', 'tap_product_conv2d', 'tap_product_ok'
]

#: most output channels: beyond it the shifted additions outweigh the
#: saving (``cpu_kernels.bench_kernels --mode conv``; record
#: docs/results/winograd_conv_shapes.json)
TAP_PRODUCT_MAX_OUT_CHANNELS = 3

#: fewest input channels: the product's inner size (few-channel maps have
#: their direct kernel, :mod:`~cpu_kernels.direct_conv`)
TAP_PRODUCT_MIN_CHANNELS = 16

#: smallest map (H x W): below it oneDNN's call costs little anyway
TAP_PRODUCT_MIN_PIXELS = 16384


def tap_product_ok(conv: nn.Module, shape: Tuple[int, int, int,
                                                 int]) -> bool:
    """Whether :func:`tap_product_conv2d` may compute ``conv`` on an input
    of ``shape`` (the inference context is the caller's to check).

    Args:
        conv (nn.Module): the convolution.
        shape (tuple[int]): its input's ``(N, C, H, W)``.

    Returns:
        bool: ``conv`` exactly an ``nn.Conv2d`` without forward hooks, with
        stride 1, one group, zero padding given as numbers of at most
        ``dilation x (kernel - 1)`` per side (a non-empty output), at most
        :data:`TAP_PRODUCT_MAX_OUT_CHANNELS` output and at least
        :data:`TAP_PRODUCT_MIN_CHANNELS` input channels, float32 CPU
        weight (and bias); a map of at least
        :data:`TAP_PRODUCT_MIN_PIXELS` pixels;
        the switch ``tap_products`` on.
    """
    if type(conv) is not nn.Conv2d or has_forward_hooks(conv):
        return False
    n, c, h, w = shape
    if (conv.stride != (1, 1) or conv.groups != 1
            or conv.padding_mode != 'zeros' or isinstance(conv.padding, str)
            or c != conv.in_channels or c < TAP_PRODUCT_MIN_CHANNELS
            or conv.out_channels > TAP_PRODUCT_MAX_OUT_CHANNELS
            or h * w < TAP_PRODUCT_MIN_PIXELS
            or conv.weight.dtype != torch.float32
            or conv.weight.device.type != 'cpu'
            or (conv.bias is not None
                and conv.bias.dtype != torch.float32)):
        return False
    for size, k, d, p in zip((h, w), conv.kernel_size, conv.dilation,
                             conv.padding):
        if p > d * (k - 1) or size + 2 * p - d * (k - 1) < 1:
            return False
    return get_cpu_kernels().tap_products


def tap_product_conv2d(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(x)`` as one product over the taps and shifted additions, for
    a convolution where :func:`tap_product_ok` holds.

    Args:
        x (Tensor): ``(N, C, H, W)`` float32 CPU map in channels-last
            memory format, without grad.
        conv (nn.Conv2d): the convolution.

    Returns:
        Tensor: ``(N, C_out, H_out, W_out)``, contiguous for one image.
    """
    if not tap_product_ok(conv, tuple(x.shape)):
        raise ValueError(
            f'tap_product_conv2d: {conv} on an input of shape '
            f'{tuple(x.shape)} is not a case it computes (see '
            'tap_product_ok)')
    check_channels_last_map(x, 'tap_product_conv2d')
    n, c, h, w = x.shape
    co = conv.out_channels
    (kh, kw), (dh, dw), (ph, pw) = (conv.kernel_size, conv.dilation,
                                    conv.padding)
    ho, wo = h + 2 * ph - dh * (kh - 1), w + 2 * pw - dw * (kw - 1)
    # rows (tap, output channel), columns the pixels: one H x W map each
    taps = conv.weight.detach().permute(2, 3, 0, 1).reshape(kh * kw * co, c)
    y = torch.mm(taps, x.permute(0, 2, 3, 1).reshape(n * h * w, c).t())
    y = y.view(kh * kw, co, n, h, w)
    out = torch.empty((co, n, ho, wo), dtype=x.dtype)
    if conv.bias is None:
        out.zero_()
    else:
        out.copy_(conv.bias.detach().view(co, 1, 1, 1).expand_as(out))
    for i in range(kh):
        dy = i * dh - ph        # output row r reads input row r + dy
        r0, r1 = max(0, -dy), min(ho, h - dy)
        for j in range(kw):
            dx = j * dw - pw
            c0, c1 = max(0, -dx), min(wo, w - dx)
            if r0 < r1 and c0 < c1:
                out[:, :, r0:r1, c0:c1] += y[i * kw + j, :, :,
                                             r0 + dy:r1 + dy,
                                             c0 + dx:c1 + dx]
    return out.permute(1, 0, 2, 3)
