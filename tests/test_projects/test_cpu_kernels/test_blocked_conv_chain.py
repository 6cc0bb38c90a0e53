"""run_conv_chain: conv / ReLU chains in oneDNN's blocked layout give the
NCHW chain's output bit for bit, and fall back to it wherever the blocked
call would not be the same call; the networks that hold such chains give
the plain networks' outputs once :func:`~cpu_kernels.apply_cpu_kernels`
swapped their kernel classes in."""
import copy

import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from cpu_kernels import apply_cpu_kernels
from cpu_kernels.blocked_conv_chain import (blocked_layout_ok,
                                                  channels_last_at_inference,
                                                  run_conv_chain)
from mmfusenas.models.restoration import DilatedDenoiser, NoiseLevelProxy
from mmfusenas.models.scene import RUASNoiseEstimator
from cpu_kernels.switches import cpu_kernels

needs_onednn = pytest.mark.skipif(
    not torch.backends.mkldnn.is_available(), reason='no oneDNN in torch')


def _chain(in_ch=3, width=32, dilations=(1, 2, 1), out_act=nn.ReLU):
    torch.manual_seed(0)
    chans = [in_ch] + [width] * (len(dilations) - 1) + [in_ch]
    layers = []
    for i, d in enumerate(dilations):
        layers.append(nn.Conv2d(chans[i], chans[i + 1], 3, padding=d,
                                dilation=d))
        layers.append(nn.ReLU(inplace=True) if i < len(dilations) - 1
                      else out_act())
    return nn.Sequential(*layers).eval()


def _calls(fn, x):
    """aten operators one call of ``fn(x)`` dispatches (no grad)."""
    from torch.profiler import ProfilerActivity, profile
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as p:
        fn(x)
    return {e.key for e in p.key_averages()}


@needs_onednn
@pytest.mark.parametrize('shape', [(1, 3, 96, 120), (2, 3, 40, 52),
                                   (1, 3, 20, 20), (3, 3, 9, 11)])
@pytest.mark.parametrize('out_act', [nn.ReLU, nn.Sigmoid, nn.Identity])
def test_chain_equals_sequential_bit_for_bit(shape, out_act):
    net = _chain(dilations=(1, 2, 3, 1), out_act=out_act)
    x = torch.rand(*shape)
    with torch.no_grad():
        ref = net(x.clone())
        out = run_conv_chain(net, x)
    assert out.layout == torch.strided and out.is_contiguous()
    assert torch.equal(out, ref)


@needs_onednn
def test_strided_input_like_an_fft_real_part():
    # the HQS proxy reads the real part of the data step's inverse FFT:
    # strided, not channels-last; made contiguous as ATen's conv does
    net = _chain(in_ch=1, width=16)
    z = torch.fft.ifft2(torch.fft.fft2(torch.rand(1, 1, 90, 120)))
    x = z.real
    assert not x.is_contiguous()
    with torch.no_grad():
        assert 'aten::to_mkldnn' in _calls(
            lambda t: run_conv_chain(net, t), x)
        assert torch.equal(run_conv_chain(net, x), net(x))


@needs_onednn
def test_blocked_path_is_taken_only_where_exact():
    net = _chain()
    big = torch.rand(1, 3, 96, 120)       # 34560 input elements > 20480
    small = torch.rand(1, 3, 40, 40)      # 4800: ATen's native first conv
    with torch.no_grad():
        assert blocked_layout_ok(big)
        assert 'aten::to_mkldnn' in _calls(lambda t: run_conv_chain(net, t),
                                           big)
        # the small input's first conv runs natively, the 32-channel ones
        # (51200 elements) blocked; values still equal
        calls = _calls(lambda t: run_conv_chain(net, t), small)
        assert 'aten::_slow_conv2d_forward' in calls
        assert 'aten::to_mkldnn' in calls
        assert torch.equal(run_conv_chain(net, small), net(small))
    # autograd on, a channels-last or double input, a FLOP counter: NCHW
    assert not blocked_layout_ok(big)
    with torch.no_grad():
        assert not blocked_layout_ok(
            big.to(memory_format=torch.channels_last))
        assert not blocked_layout_ok(big.double())
        with FlopCounterMode(display=False):
            assert not blocked_layout_ok(big)
        assert 'aten::to_mkldnn' not in _calls(
            lambda t: run_conv_chain(net, t),
            big.to(memory_format=torch.channels_last))
    out = run_conv_chain(net, big.requires_grad_())
    out.sum().backward()  # the autograd path is the plain chain
    assert big.grad is not None


@needs_onednn
def test_networks_using_the_chain_keep_their_values():
    """The estimator's, the proxy's and the denoiser's chains are swapped
    for :class:`~cpu_kernels.modules.CpuConvChain`; the transformed
    networks equal the plain torch chains bit for bit."""
    torch.manual_seed(1)
    est = RUASNoiseEstimator().eval()
    proxy = NoiseLevelProxy().eval()
    den = DilatedDenoiser(dilations='ffd').eval()
    with torch.no_grad():
        for p in list(est.parameters()) + list(proxy.parameters()) + list(
                den.parameters()):
            p.add_(0.01 * torch.randn_like(p))
    fast = []
    for net, chain in ((est, 'layers'), (proxy, 'body'), (den, 'body')):
        kernels = copy.deepcopy(net)
        report = apply_cpu_kernels(kernels)
        assert report.swapped == [(chain, 'Sequential', 'CpuConvChain')]
        fast.append(kernels)
    est_k, proxy_k, den_k = fast
    with torch.no_grad():
        u = torch.rand(1, 3, 100, 148)
        y = torch.rand(1, 1, 120, 120)
        # the chains take the blocked layout on these maps
        assert 'aten::to_mkldnn' in _calls(est_k, u)
        assert 'aten::to_mkldnn' not in _calls(est, u)
        assert torch.equal(
            est_k(u), torch.linalg.vector_norm(est.layers(u), ord=1) /
            u[0].numel())
        assert torch.equal(est_k(u), est(u))
        sigma = proxy_k(y)
        assert torch.equal(sigma, proxy.body(y))
        assert torch.equal(sigma, proxy(y))
        assert torch.equal(den_k(y, sigma),
                           y - den.body(torch.cat([y, sigma], 1)))
        assert torch.equal(den_k(y, sigma), den(y, sigma))


# ----------------------------------------------------------------------
# channels_last_at_inference (the TIM networks at CPU inference)
# ----------------------------------------------------------------------
@needs_onednn
def test_channels_last_at_inference_context():
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        y = channels_last_at_inference(x)
        assert y.is_contiguous(memory_format=torch.channels_last)
        assert not y.is_contiguous() and torch.equal(y, x)
        with cpu_kernels(channels_last=False):
            assert channels_last_at_inference(x) is x
        assert channels_last_at_inference(x.double()).is_contiguous()
    # training / autograd: the input as it is
    assert channels_last_at_inference(x) is x


@needs_onednn
def test_tim_networks_run_channels_last_at_inference():
    """The plain TIM network runs NCHW; with the kernel classes its stem
    takes a channels-last input at inference (equal within float
    rounding), NCHW with the switch ``channels_last=False`` and with
    autograd on."""
    from mmfusenas.registry import MODELS
    torch.manual_seed(0)
    net = MODELS.build(
        dict(type='TIMFusionNet', channels=8, cells=[
            dict(type='SuccessiveCell',
                 ops=['Residualblocks_3_1', 'ECAattention_3'])
        ])).eval()
    fast_net = copy.deepcopy(net)
    report = apply_cpu_kernels(fast_net)
    assert ('stem', 'Sequential', 'CpuChannelsLastStem') in report.swapped
    seen = []
    for m in (net, fast_net):
        m.stem.register_forward_hook(lambda m, i, o: seen.append(
            o.is_contiguous(memory_format=torch.channels_last)
            and not o.is_contiguous()))
    x = torch.rand(1, 2, 40, 48)
    with torch.no_grad():
        ref = net(x)
        fast = fast_net(x)
        with cpu_kernels(channels_last=False):
            plain = fast_net(x)
    assert seen == [False, True, False]
    assert torch.equal(plain, ref)
    assert torch.allclose(fast, plain, atol=1e-5)
    with torch.enable_grad():
        fast_net(x)
    assert seen[-1] is False     # autograd on: NCHW
