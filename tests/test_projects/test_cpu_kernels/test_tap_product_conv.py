"""Convolutions to few channels as one product over the taps: against
float64 convolutions, a hand-computed case, the conditions, the callers."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cpu_kernels import blocked_conv_chain as chain_mod
from cpu_kernels import direct_conv as direct_mod
from cpu_kernels.blocked_conv_chain import run_conv_chain
from cpu_kernels.tap_product_conv import (
    TAP_PRODUCT_MAX_OUT_CHANNELS, TAP_PRODUCT_MIN_PIXELS, tap_product_conv2d,
    tap_product_ok)
from cpu_kernels.switches import cpu_kernels

#: error bound relative to conv(|x|, |w|) + |b|: the float32 sums over
#: channels then taps measured at <= 8e-8 of it on these maps (oneDNN's
#: <= 2.2e-7); a wrong shift or tap errs by O(1)
REL = 2e-6


def _cl(x):
    return x.contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize('n,c,co,k,d,p,h,w,bias', [
    (1, 64, 1, 3, 1, 1, 130, 140, True),      # HQS's last layers
    (1, 32, 3, 3, 1, 1, 129, 131, True),      # RUAS's estimator output
    (2, 16, 2, 3, 2, 2, 128, 135, False),     # dilated, two images
    (1, 24, 3, 5, 1, 2, 131, 128, True),      # 5 x 5
    (1, 16, 1, 3, 2, 0, 140, 130, True),      # no padding: a smaller map
    (1, 16, 3, 3, 1, 1, 1, 20000, True),      # one row
])
def test_matches_float64_convolution(n, c, co, k, d, p, h, w, bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(c, co, k, padding=p, dilation=d, bias=bias).eval()
    x = torch.rand(n, c, h, w) * 2 - 0.5
    assert tap_product_ok(conv, tuple(x.shape))
    with torch.no_grad():
        y = tap_product_conv2d(_cl(x), conv)
    b = conv.bias.double() if bias else None
    ref = F.conv2d(x.double(), conv.weight.double(), b, padding=p,
                   dilation=d)
    scale = F.conv2d(x.abs().double(), conv.weight.abs().double(),
                     b.abs() if bias else None, padding=p, dilation=d)
    assert y.shape == ref.shape
    err = (y.double() - ref).abs()
    assert (err <= REL * scale + 1e-12).all(), (err / scale).max()


def test_delta_input_gives_the_flipped_kernel():
    """A one at (i, j) of channel k: output o at (i + 1 - a, j + 1 - b) is
    w[o, k, a, b] exactly (every other term is an exact zero, in any
    order: the float64 convolution's values), exact zeros elsewhere; at a
    corner only the taps that land inside the map."""
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 2, 3, padding=1, bias=False).eval()
    x = torch.zeros(1, 16, 128, 130)
    x[0, 5, 60, 61] = 1
    x[0, 2, 0, 129] = 1                          # top-right corner
    with torch.no_grad():
        y = tap_product_conv2d(_cl(x), conv)
    wt = conv.weight.detach()
    assert torch.equal(y.double(), F.conv2d(x.double(), wt.double(),
                                            padding=1))
    assert torch.equal(y[0, :, 59, 61], wt[:, 5, 2, 1])
    assert torch.equal(y[0, :, 1, 128], wt[:, 2, 0, 2])   # corner taps
    assert torch.equal(y[0, :, 0, 129], wt[:, 2, 1, 1])
    assert (y[0, :, 2, 128] == 0).all() and (y[..., 70:, :50] == 0).all()


def test_conditions_and_errors():
    big = (1, 16, 128, 128)
    conv = nn.Conv2d(16, TAP_PRODUCT_MAX_OUT_CHANNELS, 3, padding=1)
    assert TAP_PRODUCT_MAX_OUT_CHANNELS == 3
    assert tap_product_ok(conv, big)
    assert not tap_product_ok(nn.Conv2d(16, 4, 3, padding=1), big)
    assert not tap_product_ok(nn.Conv2d(8, 1, 3, padding=1),
                              (1, 8, 128, 128))          # few inputs
    assert not tap_product_ok(conv, (1, 16, 100, 100))   # small map
    assert 100 * 100 < TAP_PRODUCT_MIN_PIXELS <= 128 * 128
    assert not tap_product_ok(conv, (1, 17, 128, 128))   # wrong width
    assert not tap_product_ok(nn.Conv2d(16, 1, 3, stride=2, padding=1), big)
    assert not tap_product_ok(nn.Conv2d(16, 2, 3, padding=1, groups=2), big)
    assert not tap_product_ok(nn.Conv2d(16, 1, 3, padding=3), big)
    assert not tap_product_ok(
        nn.Conv2d(16, 1, 3, padding=1, padding_mode='reflect'), big)
    assert not tap_product_ok(nn.Conv2d(16, 1, 3, padding='same'), big)
    assert not tap_product_ok(nn.Conv2d(16, 1, (1, 20000)),
                              (1, 16, 1, 19999))         # empty output
    hooked = nn.Conv2d(16, 1, 3, padding=1)
    hooked.register_forward_hook(lambda *a: None)
    assert not tap_product_ok(hooked, big)
    with cpu_kernels(tap_products=False):
        assert not tap_product_ok(conv, big)
        with pytest.raises(ValueError, match='not a case it computes'):
            tap_product_conv2d(_cl(torch.rand(big)), conv)
    with pytest.raises(ValueError, match='channels-last'):
        tap_product_conv2d(torch.rand(big), conv)
    with pytest.raises(ValueError, match='without grad'):
        tap_product_conv2d(_cl(torch.rand(big)).requires_grad_(), conv)


def test_callers_take_it_for_few_outputs(monkeypatch):
    """The chain's channels-last path (HQS's 64 -> 1 output layer) and
    conv2d_at_inference on a channels-last map (HBL's 16 -> 3 output)
    compute it, within float rounding; an NCHW map and autograd keep the
    module's forward."""
    from cpu_kernels import winograd_conv as wmod
    if wmod._kernels() is None:         # the chain's Winograd path
        pytest.skip('Winograd kernels unavailable (numba missing, or the '
                    'cpu_kernels switch winograd / numba off)')
    calls = []
    real = tap_product_conv2d

    def spy(x, conv):
        calls.append(conv.out_channels)
        return real(x, conv)

    monkeypatch.setattr(chain_mod, 'tap_product_conv2d', spy)
    monkeypatch.setattr(direct_mod, 'tap_product_conv2d', spy)
    torch.manual_seed(0)
    chain = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(32, 1, 3, padding=1)).eval()
    x = torch.rand(1, 1, 150, 160)
    with torch.no_grad():
        y = run_conv_chain(chain, x)
        ref = chain.double()(x.double())
        chain.float()
    assert calls == [1] and y.is_contiguous()
    assert (y.double() - ref).abs().max() < 1e-5 * ref.abs().max()
    conv = nn.Conv2d(16, 3, 3, padding=1).eval()
    m = torch.rand(1, 16, 128, 130)
    calls.clear()
    with torch.no_grad():
        out = direct_mod.conv2d_at_inference(conv, _cl(m), direct=False)
        assert calls == [3]
        assert (out - conv(m)).abs().max() < 1e-5
        direct_mod.conv2d_at_inference(conv, m)            # NCHW
    direct_mod.conv2d_at_inference(conv, _cl(m))           # autograd on
    assert calls == [3]
