"""Winograd F(4 x 4, 3 x 3) convolution of wide maps at CPU inference.

oneDNN computes a float32 3 x 3 convolution directly: nine multiply-adds
per input channel, output channel and pixel. At 64 channels it already
runs at about the core's arithmetic rate, so no rewrite with the same
multiply-adds is much faster. Winograd's minimal filtering algorithm
F(4 x 4, 3 x 3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural
Networks", CVPR 2016) computes each 4 x 4 output tile from a 6 x 6 input
patch with 36 products per channel pair instead of 144:

``Y = A^T [ (G g G^T) * (B^T d B) ] A``

(``g`` the 3 x 3 kernel, ``d`` the patch, ``*`` element-wise; summed over
input channels before ``A`` is applied). :func:`winograd_conv2d` does this
on channels-last (NHWC) maps in blocks of :data:`TILE_BLOCK` tiles that
stay in cache: a compiled pass (numba) transforms the block's patches
(``B^T d B``), 36 matrix products (``torch.bmm``: tiles x input channels
times input x output channels) multiply them with the transformed kernel
(``G g G^T``, computed once per weight in float64 and kept while the
weight is unchanged), and a second compiled pass transforms the products
back (``A^T m A``), adds the bias and applies a following ReLU on the
tile while it is in cache. A dilated kernel is the same algorithm on the
map's ``d x d`` interleaved sub-grids: a tile's patch reads every
``d``-th pixel. Borders read zeros (no padded copy); tiles past the map's
edge are computed and cropped.

Values: the transforms add and scale by small integers and the kernel's
transform has the fractions 1/6 and 1/24, so the result differs from the
direct sum by float32 rounding of a somewhat larger size: on random maps
of 64 channels, a few 1e-5 of an output of magnitude 5, against 1.5e-6
for oneDNN (both against float64; ``tests/test_models/
test_winograd_conv.py``). Through HQS's 45 wide convolutions the restored
image stays within 1e-6 of the direct network's.

It is used (:func:`winograd_ok`) only for a plain ``nn.Conv2d`` with a
3 x 3 kernel, stride 1, one group, zero "same" padding (padding equal to
the dilation), none (the input padded already) or a reflection of the
map read at its border (``reflect``: no padded copy), at
least :data:`WINOGRAD_MIN_CHANNELS` input and
:data:`WINOGRAD_MIN_OUT_CHANNELS` output channels, a float32 CPU weight,
at most :data:`WINOGRAD_MAX_THREADS` torch threads (the transforms run on
one thread, the products on all) and a map of at least
:data:`WINOGRAD_MIN_PIXELS` pixels; never with the switch
``winograd=False`` of :mod:`cpu_kernels.switches` (oneDNN's
convolutions, the authors' values bit for bit) or ``numba=False``. The
callers, at inference on channels-last maps:
:func:`~cpu_kernels.blocked_conv_chain.run_conv_chain` (conv /
ReLU chains),
:func:`~cpu_kernels.direct_conv.conv2d_at_inference` (single
convolutions of modules, e.g. the TIM networks' ECA blocks, HBL's) and
:func:`~cpu_kernels.direct_conv.reflect_conv2d_at_inference`
(the TIM networks' reflection-padded convolutions).
"""
import threading
import weakref
from functools import lru_cache
from typing import Tuple

import numpy as np
import torch
import torch.nn as nn

from .module_hooks import has_forward_hooks
from .switches import get_cpu_kernels
from .numba_support import compile_once

from .numba_support import kernel_array, kernel_scope

__all__ = [
    'TILE_BLOCK', 'WINOGRAD_MAX_THREADS', 'WINOGRAD_MIN_CHANNELS',
    'check_channels_last_map',
    'WINOGRAD_MIN_OUT_CHANNELS', 'WINOGRAD_MIN_PIXELS', 'winograd_conv2d',
    'winograd_ok', 'winograd_weight'
]

#: fewest input channels: the 36 products then have at least this inner
#: size (below it oneDNN's direct kernel is as fast and more exact)
WINOGRAD_MIN_CHANNELS = 16

#: fewest output channels: below it oneDNN's direct kernel on the
#: channels-last map is as fast or faster (``bench_kernels.py --mode
#: conv``; record docs/results/winograd_conv_shapes.json,
#: projects/cpu_kernels/docs/winograd_convolutions.md)
WINOGRAD_MIN_OUT_CHANNELS = 24

#: smallest map (H x W): below it the per-block calls outweigh the saving
WINOGRAD_MIN_PIXELS = 16384

#: most torch threads: the transforms run on the calling thread only
WINOGRAD_MAX_THREADS = 2

#: tiles per block (a block's transformed patches and products, 36 x
#: TILE_BLOCK x channels floats each, stay in the core's cache)
TILE_BLOCK = 128

# F(4 x 4, 3 x 3) with the points 0, 1, -1, 2, -2 (Lavin and Gray, 2016)
_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6],
               [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
               [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])

_KERNELS: list = []     # [(input_transform, output_transform)] or [None]
_LOCK = threading.Lock()
# id(weight) -> (weak reference to it, (version, data pointer), transformed)
_WEIGHTS: dict = {}


def _bt(a0, a1, a2, a3, a4, a5):
    """``B^T a`` of six float32 values (F(4, 3)'s input transform)."""
    f2 = np.float32(2)
    f4 = np.float32(4)
    f5 = np.float32(5)
    return (f4 * a0 - f5 * a2 + a4, -f4 * (a1 + a2) + (a3 + a4),
            f4 * (a1 - a2) + (a4 - a3), f2 * (a3 - a1) + (a4 - a2),
            f2 * (a1 - a3) + (a4 - a2), f4 * a1 - f5 * a3 + a5)


def _reflect(i, n):
    """Index ``i`` reflected into ``[0, n)`` (without repeating the edge
    sample), clamped beyond one reflection."""
    if i < 0:
        i = -i
    elif i >= n:
        i = 2 * n - 2 - i
    return min(max(i, 0), n - 1)


def _input_transform(x, d, off, reflect, tiles, v):
    """``v[:, t] = B^T p B`` for the 6 x 6 patch ``p`` of tile ``t``
    (rows ``tiles[t]``: image, sub-grid row / column, tile row / column)
    of the NHWC map ``x`` with dilation ``d``, starting ``off`` taps
    before the tile (1: "same" padding, 0: none); outside ``x`` zeros, or
    with ``reflect`` the reflection of ``x`` at its border (clamped into
    it beyond one reflection: only outputs past the edge, which are
    cropped, read those); ``v`` is ``(36, tiles, C)``, position
    ``6 i + j``."""
    _, h, w, c = x.shape
    p = np.empty((6, 6, c), np.float32)
    q = np.empty((6, 6, c), np.float32)
    f0 = np.float32(0)
    for t in range(tiles.shape[0]):
        n = tiles[t, 0]
        y0 = tiles[t, 1] + d * (4 * tiles[t, 3] - off)
        x0 = tiles[t, 2] + d * (4 * tiles[t, 4] - off)
        for r in range(6):
            yr = y0 + d * r
            for k in range(6):
                xk = x0 + d * k
                if 0 <= yr < h and 0 <= xk < w:
                    for ch in range(c):
                        p[r, k, ch] = x[n, yr, xk, ch]
                elif reflect:
                    ry = _reflect(yr, h)
                    rx = _reflect(xk, w)
                    for ch in range(c):
                        p[r, k, ch] = x[n, ry, rx, ch]
                else:
                    for ch in range(c):
                        p[r, k, ch] = f0
        for r in range(6):     # along each patch row: q[j, r] = (p[r] B)_j
            for ch in range(c):
                (q[0, r, ch], q[1, r, ch], q[2, r, ch], q[3, r, ch],
                 q[4, r, ch], q[5, r, ch]) = _bt(
                     p[r, 0, ch], p[r, 1, ch], p[r, 2, ch], p[r, 3, ch],
                     p[r, 4, ch], p[r, 5, ch])
        for j in range(6):     # down each column: v[6 i + j] = (B^T q_j)_i
            for ch in range(c):
                (v[j, t, ch], v[6 + j, t, ch], v[12 + j, t, ch],
                 v[18 + j, t, ch], v[24 + j, t, ch], v[30 + j, t, ch]) = _bt(
                     q[j, 0, ch], q[j, 1, ch], q[j, 2, ch], q[j, 3, ch],
                     q[j, 4, ch], q[j, 5, ch])


def _output_transform(m, tiles, bias, lo, d, y):
    """The 4 x 4 output tile ``A^T m[:, t] A + bias``, clamped below at
    ``lo`` (0: a ReLU; -inf: none), written to the NHWC map ``y`` where
    it lies inside it."""
    _, h, w, c = y.shape
    g = np.empty((4, 6, c), np.float32)
    o = np.empty((4, 4, c), np.float32)
    f2 = np.float32(2)
    f4 = np.float32(4)
    f8 = np.float32(8)
    for t in range(tiles.shape[0]):
        n = tiles[t, 0]
        for i in range(6):     # along each row: g[b, i] = (m_i A)_b
            for ch in range(c):
                m0 = m[6 * i, t, ch]
                m1 = m[6 * i + 1, t, ch]
                m2 = m[6 * i + 2, t, ch]
                m3 = m[6 * i + 3, t, ch]
                m4 = m[6 * i + 4, t, ch]
                m5 = m[6 * i + 5, t, ch]
                s12 = m1 + m2
                d12 = m1 - m2
                s34 = m3 + m4
                d34 = m3 - m4
                g[0, i, ch] = m0 + s12 + s34
                g[1, i, ch] = d12 + f2 * d34
                g[2, i, ch] = s12 + f4 * s34
                g[3, i, ch] = d12 + f8 * d34 + m5
        for b in range(4):     # down each column: o[a, b] = (A^T g_b)_a
            for ch in range(c):
                q0 = g[b, 0, ch]
                q1 = g[b, 1, ch]
                q2 = g[b, 2, ch]
                q3 = g[b, 3, ch]
                q4 = g[b, 4, ch]
                q5 = g[b, 5, ch]
                s12 = q1 + q2
                d12 = q1 - q2
                s34 = q3 + q4
                d34 = q3 - q4
                bc = bias[ch]
                o[0, b, ch] = max(q0 + s12 + s34 + bc, lo)
                o[1, b, ch] = max(d12 + f2 * d34 + bc, lo)
                o[2, b, ch] = max(s12 + f4 * s34 + bc, lo)
                o[3, b, ch] = max(d12 + f8 * d34 + q5 + bc, lo)
        oy = tiles[t, 1] + 4 * d * tiles[t, 3]
        ox = tiles[t, 2] + 4 * d * tiles[t, 4]
        for a in range(4):
            if oy + d * a >= h:
                break
            for b in range(4):
                if ox + d * b >= w:
                    break
                for ch in range(c):
                    y[n, oy + d * a, ox + d * b, ch] = o[a, b, ch]


def _compile(numba):
    opts = dict(cache=True, nogil=True, fastmath=False, error_model='numpy',
                boundscheck=False)
    for name in ('_bt', '_reflect'):     # the passes inline them
        globals()[name] = numba.njit(inline='always', **opts)(globals()[name])
    return (numba.njit(**opts)(_input_transform),
            numba.njit(**opts)(_output_transform))


def _kernels():
    switches = get_cpu_kernels()
    if not (switches.numba and switches.winograd):
        return None
    return compile_once(_KERNELS, _LOCK, _compile, 'Winograd convolution')


@lru_cache(maxsize=16)
def _tiles(n: int, h: int, w: int, d: int) -> np.ndarray:
    """``(T, 5)`` int64 rows ``(image, sub-grid row, sub-grid column, tile
    row, tile column)``: the 4 x 4 tiles covering each of the ``d x d``
    sub-grids of every image (the last tiles may reach past the edge)."""
    rows = []
    for py in range(d):
        for px in range(d):
            ty = np.arange((-(-(h - py) // d) + 3) // 4)
            tx = np.arange((-(-(w - px) // d) + 3) // 4)
            yy, xx = np.meshgrid(ty, tx, indexing='ij')
            rows.append(
                np.stack([
                    np.zeros(yy.size, np.int64),
                    np.full(yy.size, py),
                    np.full(yy.size, px),
                    yy.ravel(),
                    xx.ravel()
                ], 1))
    one = np.concatenate(rows).astype(np.int64)
    out = np.concatenate([one] * n)
    out[:, 0] = np.repeat(np.arange(n), one.shape[0])
    out.setflags(write=False)
    return out


def winograd_weight(weight: torch.Tensor) -> torch.Tensor:
    """``G g G^T`` of every kernel of a ``(C_out, C_in, 3, 3)`` weight, as
    the ``(36, C_in, C_out)`` float32 right operands of the 36 products
    (computed in float64; kept, while the weight is unchanged, for the
    weight's life)."""
    key = (weight._version, weight.data_ptr())
    hit = _WEIGHTS.get(id(weight))
    if hit is not None and hit[0]() is weight and hit[1] == key:
        return hit[2]
    g = weight.detach().to(torch.float64).cpu().numpy()
    u = np.einsum('ik,ockl,jl->ijco', _G, g, _G)
    out = torch.from_numpy(
        np.ascontiguousarray(
            u.reshape(36, g.shape[1], g.shape[0]).astype(np.float32)))
    for k in [k for k, v in _WEIGHTS.items() if v[0]() is None]:
        del _WEIGHTS[k]     # weights since freed
    _WEIGHTS[id(weight)] = (weakref.ref(weight), key, out)
    return out


def winograd_ok(conv: nn.Module,
                shape: Tuple[int, int, int, int],
                reflect: bool = False) -> bool:
    """Whether :func:`winograd_conv2d` may compute ``conv`` on an input of
    ``shape`` (the call context, inference on a float32 CPU map, is the
    caller's to check).

    Args:
        conv (nn.Module): the convolution.
        shape (tuple[int]): its input's ``(N, C, H, W)``.
        reflect (bool): the input is to be reflection-padded by the
            dilation first (``conv`` without padding of its own, a map
            larger than the dilation per side). Defaults to False.

    Returns:
        bool: ``conv`` exactly an ``nn.Conv2d`` without forward hooks
        (module or global), with a 3 x 3 kernel, stride 1, one group, zero
        padding equal to the dilation ("same") or none (on an input of
        more than twice the dilation per side), at least
        :data:`WINOGRAD_MIN_CHANNELS` input and
        :data:`WINOGRAD_MIN_OUT_CHANNELS` output channels, a float32 CPU
        weight (and bias); a map of at least :data:`WINOGRAD_MIN_PIXELS`
        pixels; at most :data:`WINOGRAD_MAX_THREADS` torch threads; the
        kernels available (numba installed, the switches ``winograd``
        and ``numba`` on).
    """
    if type(conv) is not nn.Conv2d:
        return False
    if has_forward_hooks(conv):
        return False  # the hooks see the module's own call
    n, c, h, w = shape
    d = conv.dilation
    if (conv.kernel_size != (3, 3) or conv.stride != (1, 1)
            or conv.groups != 1 or conv.padding_mode != 'zeros'
            or isinstance(conv.padding, str) or d[0] != d[1]
            or (reflect and (tuple(conv.padding) != (0, 0)
                             or min(h, w) <= d[0]))
            or (not reflect and (tuple(conv.padding) not in ((0, 0),
                                                             tuple(d))
                                 or min(h, w) <= 2 * d[0]))
            or c != conv.in_channels or c < WINOGRAD_MIN_CHANNELS
            or conv.out_channels < WINOGRAD_MIN_OUT_CHANNELS
            or h * w < WINOGRAD_MIN_PIXELS
            or conv.weight.dtype != torch.float32
            or conv.weight.device.type != 'cpu'
            or (conv.bias is not None
                and conv.bias.dtype != torch.float32)
            or torch.get_num_threads() > WINOGRAD_MAX_THREADS):
        return False
    return _kernels() is not None


def check_channels_last_map(x: torch.Tensor, who: str) -> None:
    """Raise a ``ValueError`` naming ``who`` unless ``x`` is a float32
    CPU tensor in channels-last memory format without grad (the input of
    the compiled and product kernels of the inference convolutions)."""
    if (x.dtype != torch.float32 or x.device.type != 'cpu'
            or x.requires_grad
            or not x.is_contiguous(memory_format=torch.channels_last)):
        raise ValueError(
            f'{who}: x must be a float32 CPU tensor in channels-last '
            f'memory format without grad, got {x.dtype} on {x.device} '
            f'with strides {x.stride()}')


def winograd_conv2d(x: torch.Tensor,
                    conv: nn.Conv2d,
                    relu: bool = False,
                    reflect: bool = False) -> torch.Tensor:
    """``conv(x)`` (and a ReLU after it) by Winograd F(4 x 4, 3 x 3), for
    a convolution where :func:`winograd_ok` holds.

    Args:
        x (Tensor): ``(N, C, H, W)`` float32 CPU map in channels-last
            memory format.
        conv (nn.Conv2d): the convolution.
        relu (bool): apply a ReLU to the output. Defaults to False.
        reflect (bool): ``conv(reflection_pad(x, d))`` instead, ``d`` the
            dilation (``conv`` without padding): the patches read the
            reflection at the border, no padded copy is made. Defaults to
            False.

    Returns:
        Tensor: ``(N, C_out, H, W)`` (without padding and ``reflect``:
        ``(N, C_out, H - 2 d, W - 2 d)``) in channels-last memory format.
    """
    kernels = _kernels()
    if kernels is None:
        raise RuntimeError(
            'winograd_conv2d: the compiled kernels are not available (numba '
            'missing, or the cpu_kernels switch winograd / numba off): '
            'call it only where winograd_ok holds')
    if not winograd_ok(conv, tuple(x.shape), reflect):
        raise ValueError(
            f'winograd_conv2d: {conv} on an input of shape '
            f'{tuple(x.shape)} is not a case it computes (see winograd_ok)')
    check_channels_last_map(x, 'winograd_conv2d')
    forward, backward = kernels
    n, c, h, w = x.shape
    d = conv.dilation[0]
    # patches start one tap before their tile with "same" (or reflected)
    # padding, at it without padding
    off = 1 if reflect else conv.padding[0] // d
    ho, wo = h + 2 * (off - 1) * d, w + 2 * (off - 1) * d
    wt = winograd_weight(conv.weight)
    co = wt.shape[2]
    bias = (kernel_array(conv.bias) if conv.bias is not None else
            np.zeros(co, np.float32))
    lo = np.float32(0 if relu else -np.inf)
    tiles = _tiles(n, ho, wo, d)
    y = torch.empty((n, co, ho, wo), dtype=x.dtype,
                    memory_format=torch.channels_last)
    xa = kernel_array(x).transpose(0, 2, 3, 1)      # NHWC views
    ya = y.numpy().transpose(0, 2, 3, 1)
    v = x.new_empty((36, TILE_BLOCK, c))
    m = x.new_empty((36, TILE_BLOCK, co))
    with kernel_scope('winograd_conv2d'):
        for t0 in range(0, tiles.shape[0], TILE_BLOCK):
            block = tiles[t0:t0 + TILE_BLOCK]
            if block.shape[0] < TILE_BLOCK:
                v = v[:, :block.shape[0]].contiguous()
                m = m[:, :block.shape[0]].contiguous()
            forward(xa, d, off, reflect, block, v.numpy())
            torch.bmm(v, wt, out=m)
            backward(m.numpy(), block, bias, lo, d, ya)
    return y
