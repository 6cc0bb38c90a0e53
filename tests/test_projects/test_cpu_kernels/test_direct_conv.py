"""The direct few-channel convolution equals ATen's within float rounding
(exactly where the sums are exact), its epilogue equals the torch chain,
and it is taken only where it applies."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import cpu_kernels.direct_conv as DC
from cpu_kernels.direct_conv import (conv2d_at_inference,
                                           direct_conv2d, direct_conv_ok)
from cpu_kernels.switches import cpu_kernels

needs_kernel = pytest.mark.skipif(
    DC._kernel() is None, reason='numba unavailable')


@pytest.fixture(autouse=True)
def small_maps(monkeypatch):
    """The direct path on the small maps of these tests (by default only
    from ``DIRECT_MIN_PIXELS`` pixels on, where it is faster)."""
    monkeypatch.setattr(DC, 'DIRECT_MIN_PIXELS', 1)

# (C_in, C_out, kernel, dilation, padding, H, W): 'same' 3 x 3 plain and
# dilated (RUAS), groups of 1 / 2 / 3 output channels, 5 x 5 and 3 x 5
# kernels (the tap-by-tap path), no / asymmetric / over-wide padding, maps
# smaller than the dilated kernel's reach (every column a border column),
# 1 x 1
CASES = [
    (3, 3, 3, 1, 1, 23, 31), (3, 3, 3, 2, 2, 23, 30), (6, 6, 3, 1, 1, 9, 17),
    (6, 6, 3, 2, 2, 12, 11), (4, 4, 3, 1, 1, 7, 8), (2, 1, 3, 1, 1, 6, 9),
    (5, 5, 3, 3, 3, 10, 10), (3, 3, 5, 1, 2, 9, 7), (2, 3, (3, 5), 1,
                                                     (1, 2), 8, 13),
    (3, 6, 3, 1, 0, 10, 12), (3, 3, 3, 1, (0, 2), 8, 8),
    (3, 3, 3, 2, (2, 0), 8, 8), (3, 3, 3, 2, 2, 3, 3), (3, 3, 3, 1, 1, 1, 1),
    (1, 2, 7, 2, 6, 5, 6),
    # 1 x 1 (taken with an epilogue): groups of three, two and one
    (6, 6, 1, 1, 0, 7, 9), (4, 5, 1, 1, 0, 5, 6), (3, 1, 1, 1, 0, 4, 4),
]


def _conv(cin, cout, k, d, p, seed=0):
    torch.manual_seed(seed)
    return nn.Conv2d(cin, cout, k, padding=p, dilation=d)


@needs_kernel
@pytest.mark.parametrize('case', CASES)
def test_matches_aten_and_float64(case):
    cin, cout, k, d, p, h, w = case
    conv = _conv(cin, cout, k, d, p)
    x = torch.randn(2, cin, h, w, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert direct_conv_ok(conv, x, epilogue=k == 1)
        out = direct_conv2d(conv, x)
        ref = conv(x)
        ref64 = F.conv2d(x.double(), conv.weight.double(),
                         conv.bias.double(), padding=p, dilation=d)
    assert out.shape == ref.shape and out.dtype == torch.float32
    torch.testing.assert_close(out, ref, rtol=0, atol=2e-6)
    torch.testing.assert_close(out.double(), ref64, rtol=0, atol=2e-6)


@needs_kernel
def test_exact_sums_are_exact():
    """Small integers: every partial sum is exact in float32, so the
    result equals the float64 convolution bit for bit (a wrong tap, order
    of dims or border would show); 3 output channels share their loads."""
    g = torch.Generator().manual_seed(0)
    for d in (1, 2):
        conv = _conv(3, 3, 3, d, d)
        with torch.no_grad():
            conv.weight.copy_(torch.randint(-4, 5, conv.weight.shape,
                                            generator=g))
            conv.bias.copy_(torch.tensor([1.0, -2.0, 0.5]))
        x = torch.randint(-8, 9, (1, 3, 11, 14), generator=g).float()
        with torch.no_grad():
            out = direct_conv2d(conv, x)
        ref = F.conv2d(x.double(), conv.weight.detach().double(),
                       conv.bias.detach().double(), padding=d, dilation=d)
        assert torch.equal(out.double(), ref)
    # one output pixel by hand: 1 x 1 input channel, a 3 x 3 image
    conv = _conv(1, 1, 3, 1, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(9.0).view(1, 1, 3, 3))
        conv.bias.fill_(10.0)
        out = direct_conv2d(conv, torch.ones(1, 1, 3, 3))
    # top-left pixel sees taps (1, 1), (1, 2), (2, 1), (2, 2): 4+5+7+8
    assert out[0, 0, 0, 0].item() == 10 + 4 + 5 + 7 + 8
    assert out[0, 0, 1, 1].item() == 10 + sum(range(9))


@needs_kernel
@pytest.mark.parametrize('adds,slope', [(1, None), (2, 0.05), (0, 0.05),
                                        (1, 0.0)])
@pytest.mark.parametrize('k', [1, 3])
def test_epilogue_equals_the_torch_chain(adds, slope, k):
    """``leaky(((conv + x) + x), slope)`` on the direct conv's own output,
    bit for bit (same operands, same order)."""
    conv = _conv(6, 6, k, 1, k // 2)
    x = torch.randn(2, 6, 9, 13, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert direct_conv_ok(conv, x, epilogue=True)
        fused = direct_conv2d(conv, x, input_adds=adds, negative_slope=slope)
        ref = direct_conv2d(conv, x)
        for _ in range(adds):
            ref = ref + x
        if slope is not None:
            ref = F.leaky_relu(ref, slope)
    assert torch.equal(fused, ref)
    # x + conv(x) is conv(x) + x: float addition commutes
    with torch.no_grad():
        assert torch.equal(direct_conv2d(conv, x, input_adds=1),
                           x + direct_conv2d(conv, x))


@needs_kernel
def test_writes_into_a_channel_slice_and_refuses_bad_outputs():
    conv = _conv(3, 3, 3, 2, 2)
    x = torch.rand(1, 3, 10, 12)
    big = torch.full((1, 9, 10, 12), 7.0)
    with torch.no_grad():
        got = direct_conv2d(conv, x, out=big[:, 3:6])
        ref = direct_conv2d(conv, x)
    assert got.data_ptr() == big[:, 3:6].data_ptr()
    assert torch.equal(big[:, 3:6], ref)
    assert torch.all(big[:, :3] == 7) and torch.all(big[:, 6:] == 7)
    with pytest.raises(ValueError, match=r'out must be .*\(1, 3, 10, 12\)'):
        direct_conv2d(conv, x, out=torch.empty(1, 3, 10, 11))
    with pytest.raises(ValueError, match='contiguous rows'):
        direct_conv2d(conv, x, out=torch.empty(1, 3, 12, 10).transpose(2, 3))
    with pytest.raises(ValueError, match='shares memory with the input'):
        direct_conv2d(conv, x, out=x)
    valid = _conv(3, 3, 3, 1, 0)
    with pytest.raises(ValueError, match='input_adds=1 needs an output'):
        direct_conv2d(valid, x, input_adds=1)
    with pytest.raises(ValueError, match='smaller than the dilated kernel'):
        direct_conv2d(_conv(3, 3, 5, 2, 0), x[..., :5])


@needs_kernel
def test_taken_only_where_it_applies(monkeypatch):
    x = torch.rand(1, 3, 8, 8)
    conv = _conv(3, 3, 3, 1, 1)
    assert not direct_conv_ok(conv, x)                      # autograd on
    with torch.no_grad():
        assert direct_conv_ok(conv, x)
        monkeypatch.setattr(DC, 'DIRECT_MIN_PIXELS', 65)
        assert not direct_conv_ok(conv, x)                  # 64 pixels
        monkeypatch.setattr(DC, 'DIRECT_MIN_PIXELS', 64)
        assert direct_conv_ok(conv, x)
        refused = [
            nn.Conv2d(3, 3, 3, stride=2, padding=1),
            nn.Conv2d(3, 3, 3, padding=1, groups=3),
            nn.Conv2d(3, 3, 3, padding=1, padding_mode='reflect'),
            nn.Conv2d(3, 3, 3, padding='same'),
            nn.Conv2d(3, 16, 3, padding=1),                 # 48 > 36
            nn.Conv2d(3, 3, 1),                             # 1 x 1 alone
        ]
        for c in refused:
            assert not direct_conv_ok(c, x), c
        assert direct_conv_ok(nn.Conv2d(3, 3, 1), x, epilogue=True)
        assert not direct_conv_ok(conv, x.double())
        assert not direct_conv_ok(
            conv, x.to(memory_format=torch.channels_last))
        assert not direct_conv_ok(conv, x[:, :, ::2])
        assert not direct_conv_ok(copy.deepcopy(conv).double(), x.double())
        hooked = _conv(3, 3, 3, 1, 1)
        seen = []
        hooked.register_forward_hook(lambda m, i, o: seen.append(1))
        assert not direct_conv_ok(hooked, x)
        conv2d_at_inference(hooked, x)
        assert seen == [1]                      # the hook saw the call
        for switch in ('direct_conv', 'numba'):
            with cpu_kernels(**{switch: False}):
                assert not direct_conv_ok(conv, x)
                # the switch gives ATen's convolution, bit for bit
                assert torch.equal(conv2d_at_inference(conv, x), conv(x))
        assert direct_conv_ok(conv, x)
        torch.testing.assert_close(conv2d_at_inference(conv, x), conv(x),
                                   rtol=0, atol=2e-6)
