"""Direct convolution of few-channel maps at CPU inference (numba).

A float32 convolution on CPU goes through oneDNN, which computes in blocks
of 8 or 16 channels: a 3 -> 3 channel 3 x 3 convolution (the RUAS scene
module's, at every edge of its cells) pays for the padded channel blocks
and for reordering the map into and out of the blocked layout, so it
takes far longer than its multiply-adds need.

:func:`direct_conv2d` computes such a convolution directly: every output
row is the bias plus, per input channel and kernel tap, a weighted row of
the input (taps outside the image skipped: zero padding without a padded
copy); a 3 x 3 kernel's nine taps and a 1 x 1 kernel's single tap go in one
vectorised pass over the row, for up to three output channels at once
(each input sample loaded once for them); it is faster than oneDNN up to
:data:`DIRECT_MAX_CHANNEL_PRODUCT` (timings:
``benchmarks/docs/inference_speed.md``). An epilogue (the input added back,
a LeakyReLU) can run on each output row while it is in cache, which saves
the epilogue's own pass over the map. Every output sums over input
channels, kernel rows and kernel columns in that order, in float32 without
FMA contraction: the values equal oneDNN's within float rounding (a few
1e-7 on maps in [0, 1]), not bit for bit, since oneDNN sums in another
order.

It is taken (:func:`direct_conv_ok`) only at inference (the context of
:func:`~cpu_kernels.blocked_conv_chain.blocked_layout_ok`:
autograd off, not compiling / tracing, no dispatch or function mode, a
contiguous 4-D float32 CPU input of at least :data:`DIRECT_MIN_PIXELS`
pixels per map), for a plain ``nn.Conv2d`` (stride 1, no
groups, zero padding) of at most :data:`DIRECT_MAX_CHANNEL_PRODUCT` input
x output channels (1 x 1 kernels only with an epilogue: alone, ATen's
matrix product is as fast), and never with
the switch ``direct_conv=False`` of :mod:`cpu_kernels.switches`
(the convolutions of the authors' code, bit for bit, e.g. for parity
checks) or ``numba=False``.
"""
import threading
from typing import Optional

import numpy as np
import torch
import torch.nn as nn

from .module_hooks import has_forward_hooks
from .switches import get_cpu_kernels
from .numba_support import compile_once

from .numba_support import kernel_array, kernel_scope
from .blocked_conv_chain import (blocked_layout_ok,
                                 channels_last_inference_ok)
from .tap_product_conv import tap_product_conv2d, tap_product_ok
from .winograd_conv import winograd_conv2d, winograd_ok

__all__ = [
    'DIRECT_MAX_CHANNEL_PRODUCT', 'DIRECT_MIN_PIXELS', 'conv2d_at_inference',
    'direct_conv2d', 'direct_conv_ok', 'reflect_conv2d_at_inference'
]

#: largest ``in_channels * out_channels`` computed directly: oneDNN's time
#: per map hardly grows below 8 channels while the direct sum grows with
#: the product; the bound leaves a margin for other CPUs (timings:
#: benchmarks/docs/inference_speed.md, record
#: docs/results/inference_ruas_direct_conv.json)
DIRECT_MAX_CHANNEL_PRODUCT = 36

#: smallest map (H x W) computed directly: on smaller maps oneDNN's
#: reorders are cheap and it is as fast or faster
#: (``python -m cpu_kernels.bench_kernels --mode conv``)
DIRECT_MIN_PIXELS = 40000

_KERNELS: list = []     # [kernel] once compiled, [None] if unusable
_LOCK = threading.Lock()


def _direct_kernel(x, w, b, ph, pw, dh, dw, adds, slope, out):
    """``out[n, o, i, j] = b[o] + sum_c sum_ki sum_kj w[o, c, ki, kj] *
    x[n, c, i + ki dh - ph, j + kj dw - pw]`` (zero outside ``x``; the
    terms outside are skipped), summed in that order; then, row by row
    while it is in cache, ``x[n, o, i, j]`` added ``adds`` times and a
    LeakyReLU of slope ``slope`` unless ``slope`` is NaN. Output channels
    go in groups of up to three, which share the loads of the input."""
    nn_, cc, h, wd = x.shape
    oo, _, kh, kw = w.shape
    ho, wo = out.shape[2], out.shape[3]
    spare = np.empty(wo, np.float32)        # third row of a group of two
    no_taps = np.zeros((3, 3), np.float32)
    one = kh == 1 and kw == 1 and ph == 0 and pw == 0
    for n in range(nn_):
        for i in range(ho):
            top = i - ph
            nine = kh == 3 and kw == 3 and top >= 0 and top + 2 * dh < h
            for o0 in range(0, oo, 3):
                g = min(3, oo - o0)
                for o in range(o0, o0 + g):
                    orow = out[n, o, i]
                    bo = b[o]
                    for j in range(wo):
                        orow[j] = bo
                for c in range(cc):
                    if one and g > 1:  # 1 x 1: one pass per input row
                        _one_tap3(
                            x[n, c, i], w[o0, c, 0, 0], w[o0 + 1, c, 0, 0],
                            w[o0 + 2, c, 0, 0] if g == 3 else np.float32(0),
                            out[n, o0, i], out[n, o0 + 1, i],
                            out[n, o0 + 2, i] if g == 3 else spare)
                        continue
                    if nine and g > 1:  # all three rows inside
                        _nine_taps3(
                            x[n, c], top, dh, w[o0, c], w[o0 + 1, c],
                            w[o0 + 2, c] if g == 3 else no_taps, pw, dw,
                            out[n, o0, i], out[n, o0 + 1, i],
                            out[n, o0 + 2, i] if g == 3 else spare)
                        continue
                    for o in range(o0, o0 + g):
                        _rows_taps(x[n, c], top, dh, h, w[o, c], pw, dw,
                                   nine, out[n, o, i])
                for o in range(o0, o0 + g):
                    if adds or slope == slope:
                        _epilogue(x[n, o, i], adds, slope, out[n, o, i])


def _rows_taps(xc, top, dh, h, wk, pw, dw, nine, orow):
    """``orow`` plus the taps ``wk`` (``kh x kw``) of the rows ``top + ki
    dh`` of ``xc`` that fall inside, row by row, left to right."""
    if nine:
        _nine_taps(xc, top, dh, wk, pw, dw, orow)
        return
    wd, wo = xc.shape[1], orow.shape[0]
    kh, kw = wk.shape
    for ki in range(kh):
        ii = top + ki * dh
        if ii < 0 or ii >= h:
            continue
        xrow = xc[ii]
        if kw == 3:
            _three_taps(xrow, wk[ki], pw, dw, orow)
        else:
            for kj in range(kw):
                wv = wk[ki, kj]
                off = kj * dw - pw
                lo = max(0, -off)
                hi = min(wo, wd - off)
                os_ = orow[lo:hi]
                xs = xrow[lo + off:hi + off]
                for j in range(hi - lo):
                    os_[j] = os_[j] + wv * xs[j]


def _one_tap3(xrow, wa, wb, wc, oa, ob, oc):
    """``oa += wa x``, ``ob += wb x``, ``oc += wc x`` in one pass over the
    row (a 1 x 1 convolution's term of one input channel for three
    outputs)."""
    for j in range(oa.shape[0]):
        t = xrow[j]
        oa[j] = oa[j] + wa * t
        ob[j] = ob[j] + wb * t
        oc[j] = oc[j] + wc * t


def _nine_taps3(xc, top, dh, wa, wb, wc, pw, dw, oa, ob, oc):
    """:func:`_nine_taps` for three output rows at once (``wa`` into
    ``oa``, ...): each input sample is loaded once for the three; every
    row's sum in the same order as :func:`_nine_taps`."""
    wd, wo = xc.shape[1], oa.shape[0]
    lo, hi = _inner_columns(wd, wo, pw, dw)
    n = hi - lo
    s = lo - pw
    r0, r1, r2 = xc[top], xc[top + dh], xc[top + 2 * dh]
    x00, x01, x02 = r0[s:s + n], r0[s + dw:s + dw + n], r0[s + 2 * dw:]
    x10, x11, x12 = r1[s:s + n], r1[s + dw:s + dw + n], r1[s + 2 * dw:]
    x20, x21, x22 = r2[s:s + n], r2[s + dw:s + dw + n], r2[s + 2 * dw:]
    a, b, c = _taps9(wa), _taps9(wb), _taps9(wc)
    pa, pb, pc = oa[lo:hi], ob[lo:hi], oc[lo:hi]
    for j in range(n):
        t = (x00[j], x01[j], x02[j], x10[j], x11[j], x12[j], x20[j],
             x21[j], x22[j])
        pa[j] = _sum9(pa[j], a, t)
        pb[j] = _sum9(pb[j], b, t)
        pc[j] = _sum9(pc[j], c, t)
    for j in range(lo):
        _border3(xc, top, dh, wa, wb, wc, pw, dw, j, oa, ob, oc)
    for j in range(hi, wo):
        _border3(xc, top, dh, wa, wb, wc, pw, dw, j, oa, ob, oc)


def _taps9(wk):
    """The nine weights of a 3 x 3 kernel, row by row, as a tuple."""
    return (wk[0, 0], wk[0, 1], wk[0, 2], wk[1, 0], wk[1, 1], wk[1, 2],
            wk[2, 0], wk[2, 1], wk[2, 2])


def _sum9(v, w, t):
    """``v + w[0] t[0] + ... + w[8] t[8]``, added left to right."""
    v = v + w[0] * t[0]
    v = v + w[1] * t[1]
    v = v + w[2] * t[2]
    v = v + w[3] * t[3]
    v = v + w[4] * t[4]
    v = v + w[5] * t[5]
    v = v + w[6] * t[6]
    v = v + w[7] * t[7]
    v = v + w[8] * t[8]
    return v


def _border3(xc, top, dh, wa, wb, wc, pw, dw, j, oa, ob, oc):
    """Column ``j`` of :func:`_nine_taps3` (taps outside skipped)."""
    oa[j] = _border9(xc, top, dh, wa, pw, dw, j, oa[j])
    ob[j] = _border9(xc, top, dh, wb, pw, dw, j, ob[j])
    oc[j] = _border9(xc, top, dh, wc, pw, dw, j, oc[j])


def _border9(xc, top, dh, wk, pw, dw, j, v):
    """``v`` plus the 3 x 3 taps of column ``j`` (rows ``top``, ``top +
    dh``, ``top + 2 dh``) that fall inside, row by row."""
    for k in range(3):
        v = _border_taps(xc[top + k * dh], wk[k], pw, dw, j, v)
    return v


def _epilogue(xrow, adds, slope, orow):
    """``orow = leaky(((orow + x) + x) ...)``: ``adds`` additions of the
    input row, then the LeakyReLU (ATen's ``v > 0 ? v : v * slope``)
    unless ``slope`` is NaN."""
    for _ in range(adds):
        for j in range(orow.shape[0]):
            orow[j] = orow[j] + xrow[j]
    if slope == slope:
        for j in range(orow.shape[0]):
            v = orow[j]
            orow[j] = v if v > 0 else v * slope


def _inner_columns(wd, wo, pw, dw):
    """``(lo, hi)``: the output columns whose three taps ``j - pw``,
    ``j - pw + dw``, ``j - pw + 2 dw`` all fall inside a row of ``wd``."""
    lo = min(max(0, pw), wo)
    return lo, max(min(wo, wd + pw - 2 * dw), lo)


def _nine_taps(xc, top, dh, wk, pw, dw, orow):
    """``orow`` plus the 3 x 3 taps of rows ``top``, ``top + dh``,
    ``top + 2 dh`` of ``xc`` (all inside), added row by row and left to
    right: one vectorised pass over the inner columns, the others one by
    one."""
    # the nine input-row views inline, as in _nine_taps3 (a helper returning
    # them makes the compiled row loop slower)
    wd, wo = xc.shape[1], orow.shape[0]
    lo, hi = _inner_columns(wd, wo, pw, dw)
    n = hi - lo
    s = lo - pw
    r0, r1, r2 = xc[top], xc[top + dh], xc[top + 2 * dh]
    x00, x01, x02 = r0[s:s + n], r0[s + dw:s + dw + n], r0[s + 2 * dw:]
    x10, x11, x12 = r1[s:s + n], r1[s + dw:s + dw + n], r1[s + 2 * dw:]
    x20, x21, x22 = r2[s:s + n], r2[s + dw:s + dw + n], r2[s + 2 * dw:]
    w = _taps9(wk)
    o = orow[lo:hi]
    for j in range(n):
        o[j] = _sum9(o[j], w, (x00[j], x01[j], x02[j], x10[j], x11[j],
                               x12[j], x20[j], x21[j], x22[j]))
    for j in range(lo):
        orow[j] = _border9(xc, top, dh, wk, pw, dw, j, orow[j])
    for j in range(hi, wo):
        orow[j] = _border9(xc, top, dh, wk, pw, dw, j, orow[j])


def _three_taps(xrow, wrow, pw, dw, orow):
    """``orow[j] += w0 x[j - pw] + w1 x[j - pw + dw] + w2 x[j - pw + 2dw]``
    (added left to right, taps outside the row skipped): one vectorised
    pass over the columns where all three taps fall inside the row, the
    others one by one."""
    wd, wo = xrow.shape[0], orow.shape[0]
    w0, w1, w2 = wrow[0], wrow[1], wrow[2]
    lo, hi = _inner_columns(wd, wo, pw, dw)
    n = hi - lo
    x0 = xrow[lo - pw:lo - pw + n]
    x1 = xrow[lo - pw + dw:lo - pw + dw + n]
    x2 = xrow[lo - pw + 2 * dw:lo - pw + 2 * dw + n]
    o = orow[lo:hi]
    for j in range(n):
        v = o[j]
        v = v + w0 * x0[j]
        v = v + w1 * x1[j]
        v = v + w2 * x2[j]
        o[j] = v
    for j in range(lo):
        orow[j] = _border_taps(xrow, wrow, pw, dw, j, orow[j])
    for j in range(hi, wo):
        orow[j] = _border_taps(xrow, wrow, pw, dw, j, orow[j])


def _border_taps(xrow, wrow, pw, dw, j, v):
    """``v`` plus the taps of column ``j`` that fall inside the row."""
    for k in range(3):
        jj = j - pw + k * dw
        if 0 <= jj < xrow.shape[0]:
            v = v + wrow[k] * xrow[jj]
    return v


def _compile(numba):
    opts = dict(cache=True, nogil=True, fastmath=False, error_model='numpy',
                boundscheck=False)
    for name in ('_border_taps', '_border9', '_border3', '_inner_columns',
                 '_three_taps', '_taps9', '_sum9', '_nine_taps',
                 '_nine_taps3', '_one_tap3', '_rows_taps', '_epilogue'):
        globals()[name] = numba.njit(**opts)(globals()[name])
    return numba.njit(**opts)(_direct_kernel)


def _kernel():
    switches = get_cpu_kernels()
    if not (switches.numba and switches.direct_conv):
        return None
    return compile_once(_KERNELS, _LOCK, _compile, 'direct convolution')


def direct_conv_ok(conv: nn.Module, x: torch.Tensor,
                   epilogue: bool = False) -> bool:
    """Whether :func:`direct_conv2d` may compute ``conv(x)``.

    Args:
        conv (nn.Module): the convolution.
        x (Tensor): its input.
        epilogue (bool): the call fuses an epilogue (input additions or a
            LeakyReLU): 1 x 1 convolutions then qualify too (alone, ATen's
            matrix product is as fast; with the epilogue the direct kernel
            saves the epilogue's pass over the map). Defaults to False.

    Returns:
        bool: the inference context and input of
        :func:`~cpu_kernels.blocked_conv_chain.blocked_layout_ok`;
        ``conv`` exactly an ``nn.Conv2d`` without forward hooks (module or
        global), with stride 1, one group, zero padding given as numbers, a
        kernel larger than 1 x 1 (unless ``epilogue``), at most
        :data:`DIRECT_MAX_CHANNEL_PRODUCT` input x output channels,
        float32 CPU weights; a map of at least :data:`DIRECT_MIN_PIXELS`
        pixels; the kernel available (numba installed, the switches
        ``direct_conv`` and ``numba`` on).
    """
    if type(conv) is not nn.Conv2d or not blocked_layout_ok(x):
        return False
    if has_forward_hooks(conv):
        return False  # the hooks see the module's own call
    if (conv.stride != (1, 1) or conv.groups != 1
            or conv.padding_mode != 'zeros'
            or isinstance(conv.padding, str)
            or (conv.kernel_size == (1, 1) and not epilogue)
            or conv.in_channels * conv.out_channels >
            DIRECT_MAX_CHANNEL_PRODUCT
            or x.shape[1] != conv.in_channels
            or x.shape[2] * x.shape[3] < DIRECT_MIN_PIXELS
            or conv.weight.dtype != torch.float32
            or conv.weight.device.type != 'cpu'):
        return False
    return _kernel() is not None


def direct_conv2d(conv: nn.Conv2d,
                  x: torch.Tensor,
                  out: Optional[torch.Tensor] = None,
                  input_adds: int = 0,
                  negative_slope: Optional[float] = None) -> torch.Tensor:
    """``conv(x)`` computed directly (call where :func:`direct_conv_ok`
    holds), with an optional epilogue applied to each output row while it
    is in cache: ``leaky_relu(((conv(x) + x) + x) ..., negative_slope)``
    (``x`` added ``input_adds`` times, left to right; a residual conv
    ``x + conv(x)`` is ``input_adds=1``: float addition commutes).

    Args:
        conv (nn.Conv2d): the convolution.
        x (Tensor): ``(N, C_in, H, W)`` contiguous float32.
        out (Tensor, optional): where to write the result, a float32 CPU
            tensor of the output's shape whose rows are contiguous (e.g. a
            channel slice of a larger map), not sharing memory with ``x``;
            a new tensor when None.
        input_adds (int): how many times the input is added to the
            convolution's output; needs an output of the input's shape.
            Defaults to 0.
        negative_slope (float, optional): a LeakyReLU of this slope last
            (0 gives a ReLU); None for none. Defaults to None.

    Returns:
        Tensor: ``(N, C_out, H_out, W_out)``.
    """
    ph, pw = conv.padding
    dh, dw = conv.dilation
    kh, kw = conv.kernel_size
    shape = (x.shape[0], conv.out_channels,
             x.shape[2] + 2 * ph - dh * (kh - 1),
             x.shape[3] + 2 * pw - dw * (kw - 1))
    if shape[2] < 1 or shape[3] < 1:
        raise ValueError(
            f'direct_conv2d: input {tuple(x.shape)} is smaller than the '
            f'dilated kernel of {conv}')
    if input_adds and shape != tuple(x.shape):
        raise ValueError(
            f'direct_conv2d: input_adds={input_adds} needs an output of the '
            f'input\'s shape {tuple(x.shape)}, {conv} gives {shape}')
    if out is not None and (out.untyped_storage().data_ptr() ==
                            x.untyped_storage().data_ptr()):
        raise ValueError('direct_conv2d: out shares memory with the input '
                         '(every output row reads several input rows)')
    if out is None:
        out = x.new_empty(shape)
    elif tuple(out.shape) != shape or out.dtype != torch.float32 \
            or out.stride(-1) != 1:
        raise ValueError(
            f'direct_conv2d: out must be a float32 tensor of shape {shape} '
            f'with contiguous rows, got {tuple(out.shape)} '
            f'{out.dtype} strides {out.stride()}')
    weight = kernel_array(conv.weight.contiguous())
    bias = (kernel_array(conv.bias) if conv.bias is not None else
            np.zeros(conv.out_channels, np.float32))
    slope = np.float32('nan' if negative_slope is None else negative_slope)
    with kernel_scope('direct_conv2d'):
        _kernel()(kernel_array(x), weight, bias, ph, pw, dh, dw, int(input_adds),
                  slope, kernel_array(out))
    return out


def conv2d_at_inference(conv: nn.Module,
                        x: torch.Tensor,
                        direct: bool = True) -> torch.Tensor:
    """``conv(x)``: directly (:func:`direct_conv2d`) where ``direct`` and
    :func:`direct_conv_ok` hold; on a channels-last map at inference by
    Winograd's algorithm
    (:func:`~cpu_kernels.winograd_conv.winograd_conv2d`) where
    :func:`~cpu_kernels.winograd_conv.winograd_ok` holds, or as
    one product over the taps
    (:func:`~cpu_kernels.tap_product_conv.tap_product_conv2d`)
    where :func:`~cpu_kernels.tap_product_conv.tap_product_ok`
    holds; else the module's own forward.

    Args:
        conv (nn.Module): the convolution.
        x (Tensor): its input.
        direct (bool): allow the direct few-channel kernel (on NCHW maps;
            False keeps such maps on the module's forward, e.g. where
            the switch ``channels_last=False`` promises the authors'
            values).
            Defaults to True.
    """
    if direct and direct_conv_ok(conv, x):
        return direct_conv2d(conv, x)
    if isinstance(conv, nn.Conv2d) and channels_last_inference_ok(x):
        if winograd_ok(conv, tuple(x.shape)):
            return winograd_conv2d(x, conv)
        if tap_product_ok(conv, tuple(x.shape)):
            return tap_product_conv2d(x, conv)
    return conv(x)


def reflect_conv2d_at_inference(pad: nn.Module, conv: nn.Module,
                                x: torch.Tensor) -> torch.Tensor:
    """``conv(pad(x))`` for a reflection padding ``pad``: on a
    channels-last map at inference by Winograd's algorithm reading the
    reflection at the border (no padded copy of the map) where ``pad``
    pads every side by the convolution's dilation and
    :func:`~cpu_kernels.winograd_conv.winograd_ok` holds with
    ``reflect``; else ``conv2d_at_inference(conv, pad(x), direct=False)``.

    Args:
        pad (nn.Module): the padding (an ``nn.ReflectionPad2d``).
        conv (nn.Module): the convolution after it.
        x (Tensor): the unpadded input.
    """
    if (type(pad) is nn.ReflectionPad2d and not has_forward_hooks(pad)
            and isinstance(conv, nn.Conv2d)
            and tuple(pad.padding) == (conv.dilation[0], ) * 4
            and channels_last_inference_ok(x)
            and winograd_ok(conv, tuple(x.shape), reflect=True)):
        return winograd_conv2d(x, conv, reflect=True)
    return conv2d_at_inference(conv, pad(x), direct=False)
