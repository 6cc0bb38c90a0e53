"""Grouped 3 x 3 convolutions of channels-last maps for training
(cpu_kernels.grouped_conv): values and gradients against ATen,
hand-computed counts, exact integer data, the second-order path, the
conditions under which ATen keeps the call, and the class swaps of the
fast training path (``apply_cpu_kernels(net, training=True)``)."""
import pytest
import torch
import torch.nn as nn

from cpu_kernels import (apply_cpu_kernels, has_cpu_kernels,
                               remove_cpu_kernels)
from cpu_kernels import grouped_conv
from cpu_kernels.fast_training import fast_training_swaps
from cpu_kernels.grouped_conv import (GROUPED_MAX_THREADS,
                                            FastGroupedConv2d,
                                            grouped_conv_ok,
                                            is_one_output_grouped_conv)
from mmfusenas.models.ops import DenseBlock, DilConv, ResidualBlock
from cpu_kernels.switches import cpu_kernels

needs_kernel = pytest.mark.skipif(
    grouped_conv._kernels() is None,
    reason='numba unavailable or the cpu_kernels switch numba off: '
    "FastGroupedConv2d is ATen's convolution")

CL = torch.channels_last
# the passes are taken with at most GROUPED_MAX_THREADS torch threads
pytestmark = pytest.mark.usefixtures('one_thread')


def _pair(cin, groups, d, bias, seed=0):
    torch.manual_seed(seed)
    ref = nn.Conv2d(cin, groups, 3, padding=d, dilation=d, groups=groups,
                    bias=bias)
    fast = FastGroupedConv2d(cin, groups, 3, padding=d, dilation=d,
                             groups=groups, bias=bias)
    fast.load_state_dict(ref.state_dict())
    return ref, fast


def _grads(conv, x, g):
    x = x.detach().clone().contiguous(memory_format=CL).requires_grad_()
    y = conv(x)
    grads = torch.autograd.grad(y, [x] + list(conv.parameters()), g)
    return y, grads


@needs_kernel
@pytest.mark.parametrize('cin,groups,d,bias,shape', [
    (8, 8, 2, False, (2, 13, 17)),      # dilated depthwise (DilConv)
    (16, 16, 3, True, (1, 9, 7)),       # dilation 3, W = 2 d + 1
    (16, 8, 1, False, (2, 12, 11)),     # 2 inputs per group (DenseBlock)
    (24, 8, 1, True, (3, 5, 6)),        # 3 inputs per group
    (12, 4, 2, True, (2, 3, 9)),        # fewer rows than the dilation spans
    (6, 3, 1, False, (1, 1, 4)),        # one row
])
def test_matches_aten(cin, groups, d, bias, shape):
    ref, fast = _pair(cin, groups, d, bias)
    n, h, w = shape
    torch.manual_seed(1)
    x = torch.randn(n, cin, h, w)
    g = torch.randn(n, groups, h, w)
    y0, r = _grads(ref, x, g)
    y1, f = _grads(fast, x, g)
    assert y1.grad_fn is not None and type(
        y1.grad_fn).__name__ == '_GroupedConvFunctionBackward'
    assert y1.is_contiguous(memory_format=CL)
    assert f[0].shape == r[0].shape and f[0].is_contiguous(memory_format=CL)
    for a, b in zip((y1, ) + f, (y0, ) + r):
        assert a.shape == b.shape and a.dtype == b.dtype
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5 * b.abs().max().item())


@needs_kernel
@pytest.mark.parametrize('cin,groups,d', [(6, 3, 1), (4, 4, 2)])
def test_hand_computed_counts(cin, groups, d):
    # ones in, ones as weights: an output counts the taps inside the map
    # (times the inputs per group); the input gradient of sum(out) counts
    # the outputs a pixel reaches; the weight gradient of tap (kh, kw)
    # counts the positions where it falls inside
    n, h, w = 2, 4, 7
    p = cin // groups
    fast = FastGroupedConv2d(cin, groups, 3, padding=d, dilation=d,
                             groups=groups, bias=True)
    with torch.no_grad():
        fast.weight.fill_(1.0)
        fast.bias.fill_(0.5)
    x = torch.ones(n, cin, h, w).contiguous(memory_format=CL)
    x.requires_grad_()
    y = fast(x)
    inside_h = torch.tensor([[1.0 if 0 <= i + d * (k - 1) < h else 0.0
                              for k in range(3)] for i in range(h)])
    inside_w = torch.tensor([[1.0 if 0 <= j + d * (k - 1) < w else 0.0
                              for k in range(3)] for j in range(w)])
    count = inside_h.sum(1)[:, None] * inside_w.sum(1)[None, :]
    assert torch.equal(y, (p * count + 0.5).expand(n, groups, h, w))
    gx, gw, gb = torch.autograd.grad(y.sum(), [x, fast.weight, fast.bias])
    # the tap pattern is symmetric, so a pixel reaches as many outputs as
    # an output has taps
    assert torch.equal(gx, count.expand(n, cin, h, w))
    per_tap = n * inside_h.sum(0)[:, None] * inside_w.sum(0)[None, :]
    assert torch.equal(gw, per_tap.expand(groups, p, 3, 3))
    assert torch.equal(gb, torch.full((groups, ), float(n * h * w)))


@needs_kernel
def test_integer_data_exact():
    # small integers: every product and sum is exact in float32, whatever
    # the order, so the passes equal ATen bit for bit
    ref, fast = _pair(24, 8, 1, True)
    torch.manual_seed(3)
    with torch.no_grad():
        ref.weight.copy_(torch.randint(-3, 4, ref.weight.shape))
        ref.bias.copy_(torch.randint(-3, 4, ref.bias.shape))
    fast.load_state_dict(ref.state_dict())
    x = torch.randint(-4, 5, (2, 24, 9, 10)).float()
    g = torch.randint(-2, 3, (2, 8, 9, 10)).float()
    y0, r = _grads(ref, x, g)
    y1, f = _grads(fast, x, g)
    assert type(y1.grad_fn).__name__ == '_GroupedConvFunctionBackward'
    for a, b in zip((y1, ) + f, (y0, ) + r):
        assert torch.equal(a, b)


@needs_kernel
def test_second_order_uses_differentiable_formulas():
    ref, fast = _pair(16, 8, 2, True)
    torch.manual_seed(4)
    x = torch.randn(2, 16, 8, 9)
    outs = []
    for conv in (ref, fast):
        xx = x.clone().contiguous(memory_format=CL).requires_grad_()
        y = conv(xx)
        gx, gw = torch.autograd.grad(y.square().sum(), [xx, conv.weight],
                                     create_graph=True)
        outs.append(torch.autograd.grad(gx.sum() + gw.square().sum(),
                                        [xx, conv.weight]))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * b.abs().max().item())


@needs_kernel
def test_conditions_and_aten_fallback():
    ref, fast = _pair(16, 8, 1, False)
    x = torch.randn(2, 16, 8, 9).contiguous(memory_format=CL)
    x.requires_grad_()
    assert grouped_conv_ok(fast, x)
    nchw = x.detach().contiguous().requires_grad_()
    assert not grouped_conv_ok(fast, nchw)
    assert torch.equal(fast(nchw), ref(nchw))
    x64 = x.detach().double().contiguous(memory_format=CL).requires_grad_()
    assert not grouped_conv_ok(fast.double(), x64)
    assert torch.equal(fast(x64), ref.double()(x64))
    fast.float()
    ref.float()
    with torch.no_grad():
        assert not grouped_conv_ok(fast, x)
        assert torch.equal(fast(x), ref(x))
    # too many threads for the one-thread passes
    torch.set_num_threads(GROUPED_MAX_THREADS + 1)
    assert not grouped_conv_ok(fast, x)
    torch.set_num_threads(1)
    for switch in ('numba', 'grouped_conv'):
        with cpu_kernels(**{switch: False}):
            assert not grouped_conv_ok(fast, x)
            assert torch.equal(fast(x), ref(x))
    # a map no wider than the dilation spans
    dil = FastGroupedConv2d(8, 8, 3, padding=2, dilation=2, groups=8)
    assert not grouped_conv_ok(
        dil, torch.randn(1, 8, 9, 4).contiguous(memory_format=CL))
    assert grouped_conv_ok(
        dil, torch.randn(1, 8, 9, 5).contiguous(
            memory_format=CL).requires_grad_())


@pytest.mark.parametrize('kwargs,ok', [
    (dict(in_channels=8, out_channels=8, groups=8, padding=2, dilation=2),
     True),
    (dict(in_channels=8, out_channels=8, groups=8, padding=1), True),
    (dict(in_channels=24, out_channels=8, groups=8, padding=1), True),
    (dict(in_channels=8, out_channels=8, groups=1, padding=1), False),
    (dict(in_channels=8, out_channels=16, groups=8, padding=1), False),
    (dict(in_channels=8, out_channels=8, groups=8, padding=1, stride=2),
     False),
    (dict(in_channels=8, out_channels=8, groups=8, padding=2, dilation=1),
     False),
    (dict(in_channels=8, out_channels=8, groups=8, padding=1,
          padding_mode='reflect'), False),
    (dict(in_channels=8, out_channels=8, groups=8, kernel_size=5,
          padding=2), False),
])
def test_which_convolutions(kwargs, ok):
    kwargs.setdefault('kernel_size', 3)
    assert is_one_output_grouped_conv(nn.Conv2d(**kwargs)) is ok


def test_depthwise_without_dilation_stays_with_onednn():
    # oneDNN's depthwise forward and backward are as fast there
    conv = FastGroupedConv2d(8, 8, 3, padding=1, groups=8)
    x = torch.randn(1, 8, 6, 6).contiguous(memory_format=CL)
    assert not grouped_conv_ok(conv, x.requires_grad_())


def test_fast_training_swaps_grouped_convs():
    net = nn.Sequential(
        ResidualBlock(8), DilConv(8), DenseBlock(8),
        nn.Conv2d(8, 8, 3, padding=1))
    keys = list(net.state_dict())
    listed = [n for n, k in fast_training_swaps(net)
              if k is FastGroupedConv2d]
    assert not any(type(m) is FastGroupedConv2d for m in net.modules())
    report = apply_cpu_kernels(net, training=True)
    grouped = [n for n, m in net.named_modules()
               if type(m) is FastGroupedConv2d]
    # ResidualBlock: depthwise + dilated depthwise; DilConv: dilated
    # depthwise; DenseBlock: its three grouped convolutions
    assert grouped == ['0.layers.0', '0.layers.1', '1.layers.1',
                       '2.conv1', '2.conv2', '2.conv3']
    assert listed == grouped
    assert [n for n, _, k in report.swapped
            if k == 'FastGroupedConv2d'] == grouped
    assert type(net[3]) is nn.Conv2d
    assert list(net.state_dict()) == keys
    # again: nothing left to swap
    assert len(apply_cpu_kernels(net, training=True)) == 0
    remove_cpu_kernels(net)
    assert not has_cpu_kernels(net)
    assert not any(type(m) is FastGroupedConv2d for m in net.modules())
    assert [n for n, m in net.named_modules() if type(m) is nn.Conv2d
            and is_one_output_grouped_conv(m)] == grouped
