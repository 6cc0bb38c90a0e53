"""Winograd F(4 x 4, 3 x 3) convolution (numba transforms + batched
products) against float64 convolutions, hand-computed cases, its weight
cache, its conditions and its use in conv chains and in the kernel classes
that :func:`~cpu_kernels.apply_cpu_kernels` swaps in."""
import copy
from unittest import mock

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cpu_kernels import apply_cpu_kernels
from cpu_kernels import blocked_conv_chain as chain_mod
from cpu_kernels import winograd_conv as wmod
from cpu_kernels.blocked_conv_chain import run_conv_chain
from cpu_kernels.winograd_conv import (WINOGRAD_MIN_PIXELS,
                                             winograd_conv2d, winograd_ok,
                                             winograd_weight)
from cpu_kernels.switches import cpu_kernels

pytestmark = pytest.mark.skipif(
    wmod._kernels() is None,
    reason='Winograd kernels unavailable (numba missing, or the '
    'cpu_kernels switch winograd / numba off)')

#: error bound relative to the magnitude sum conv(|x|, |w|) + |b|: float32
#: Winograd F(4x4, 3x3) measured at <= 2.7e-6 of it on these maps (oneDNN's
#: direct kernel <= 2.3e-7); a wrong transform coefficient errs by O(1)
REL = 1e-5


def _cl(x):
    return x.contiguous(memory_format=torch.channels_last)


@pytest.fixture
def any_width(monkeypatch):
    """The kernel computes any output width; the tests of its values use
    narrow ones too (the selection rule is ``test_conditions``')."""
    monkeypatch.setattr(wmod, 'WINOGRAD_MIN_OUT_CHANNELS', 1)


def _conv(c, co, d=1, bias=True, seed=0):
    torch.manual_seed(seed)
    return nn.Conv2d(c, co, 3, padding=d, dilation=d, bias=bias).eval()


def _reference(x, conv):
    d = conv.dilation
    b = conv.bias.double() if conv.bias is not None else None
    ref = F.conv2d(x.double(), conv.weight.double(), b, padding=d,
                   dilation=d)
    scale = F.conv2d(x.abs().double(), conv.weight.abs().double(),
                     b.abs() if b is not None else None, padding=d,
                     dilation=d)
    return ref, scale


@pytest.mark.parametrize('n,c,co,h,w,d,bias', [
    (1, 64, 64, 128, 128, 1, True),
    (2, 16, 5, 131, 127, 2, False),      # partial tiles, two images
    (1, 32, 1, 130, 140, 3, True),       # one output channel
    (1, 24, 40, 129, 133, 4, True),      # sub-grids of unequal sizes
])
@pytest.mark.parametrize('relu', [False, True])
@pytest.mark.usefixtures('any_width')
def test_matches_float64_convolution(n, c, co, h, w, d, bias, relu):
    conv = _conv(c, co, d, bias)
    torch.manual_seed(1)
    x = torch.rand(n, c, h, w) * 2 - 0.5
    with torch.no_grad():
        y = winograd_conv2d(_cl(x), conv, relu=relu)
    ref, scale = _reference(x, conv)
    if relu:
        ref = ref.clamp_min(0)
    assert y.shape == (n, co, h, w)
    assert y.is_contiguous(memory_format=torch.channels_last)
    err = (y.double() - ref).abs()
    assert (err <= REL * scale + 1e-12).all(), (err / scale).max()
    if relu:
        assert (y >= 0).all()


@pytest.mark.usefixtures('any_width')
@pytest.mark.parametrize('d', [1, 2])
def test_without_padding_matches_float64(d):
    """Padding 0 (an input padded already): an (H - 2d) x (W - 2d)
    output, the valid correlation, partial last tiles cropped."""
    torch.manual_seed(0)
    conv = nn.Conv2d(24, 7, 3, dilation=d).eval()
    x = torch.rand(2, 24, 131, 137) * 2 - 0.5
    assert winograd_ok(conv, tuple(x.shape))
    with torch.no_grad():
        y = winograd_conv2d(_cl(x), conv)
    ref, scale = _reference(x, conv)   # padding = d: crop the border
    ref, scale = (t[..., d:-d, d:-d] for t in (ref, scale))
    assert y.shape == (2, 7, 131 - 2 * d, 137 - 2 * d)
    err = (y.double() - ref).abs()
    assert (err <= REL * scale + 1e-12).all(), (err / scale).max()
    # a map not larger than twice the dilation has no valid output
    assert not winograd_ok(conv, (1, 24, 2 * d, 40000))


@pytest.mark.usefixtures('any_width')
@pytest.mark.parametrize('d', [1, 2])
def test_reflection_border_matches_float64(d):
    """``reflect``: the convolution of the map reflection-padded by the
    dilation, read at the border without a padded copy; an H x W output,
    partial last tiles cropped."""
    torch.manual_seed(0)
    conv = nn.Conv2d(24, 5, 3, dilation=d).eval()
    x = torch.rand(2, 24, 130, 137) * 2 - 0.5
    assert winograd_ok(conv, tuple(x.shape), reflect=True)
    with torch.no_grad():
        y = winograd_conv2d(_cl(x), conv, reflect=True)
    xp = F.pad(x.double(), (d, d, d, d), mode='reflect')
    b = conv.bias.double()
    ref = F.conv2d(xp, conv.weight.double(), b, dilation=d)
    scale = F.conv2d(xp.abs(), conv.weight.double().abs(), b.abs(),
                     dilation=d)
    assert y.shape == (2, 5, 130, 137)
    err = (y.double() - ref).abs()
    assert (err <= REL * scale + 1e-12).all(), (err / scale).max()
    # reflection replaces the conv's own padding; it needs more than d
    # pixels per side
    assert not winograd_ok(nn.Conv2d(24, 5, 3, padding=d, dilation=d),
                           tuple(x.shape), reflect=True)
    assert not winograd_ok(conv, (1, 24, d, 40000), reflect=True)


@pytest.mark.usefixtures('any_width')
def test_delta_input_gives_the_flipped_kernel():
    """A one at pixel (i, j) of channel k: output o at (i + 1 - a,
    j + 1 - b) is w[o, k, a, b] (a correlation), zero elsewhere; a border
    pixel keeps only the taps inside the map."""
    conv = _conv(16, 3, 1, bias=False)
    x = torch.zeros(1, 16, 128, 128)
    x[0, 5, 60, 61] = 1
    x[0, 2, 0, 127] = 1                          # top-right corner
    with torch.no_grad():
        y = winograd_conv2d(_cl(x), conv)
    want = torch.zeros(1, 3, 128, 128)
    w = conv.weight.detach()
    for a in range(3):
        for b in range(3):
            want[0, :, 61 - a, 62 - b] += w[:, 5, a, b]
            if 0 <= 1 - a and 128 - b < 128:
                want[0, :, 1 - a, 128 - b] += w[:, 2, a, b]
    assert torch.allclose(y, want, rtol=0, atol=2e-6)
    assert (y[:, :, 70:, :50] == 0).all()      # far from both: exact zeros


@pytest.mark.usefixtures('any_width')
def test_constant_input_sums_the_kernel():
    """All ones: inside the map every output is sum(w) + b; at a corner
    only the 2 x 2 taps inside the map count."""
    conv = _conv(16, 4, 2)
    x = torch.ones(1, 16, 128, 128)
    with torch.no_grad():
        y = winograd_conv2d(_cl(x), conv)
    w, b = conv.weight.detach().double(), conv.bias.detach().double()
    inner = w.sum((1, 2, 3)) + b
    corner = w[:, :, 1:, 1:].sum((1, 2, 3)) + b     # dilation 2: (0, 0)
    assert torch.allclose(y[0, :, 64, 64].double(), inner, atol=2e-5)
    assert torch.allclose(y[0, :, 0, 0].double(), corner, atol=2e-5)


@pytest.mark.usefixtures('any_width')
def test_weight_transform_follows_in_place_changes():
    conv = _conv(16, 8)
    first = winograd_weight(conv.weight)
    assert winograd_weight(conv.weight) is first        # kept
    x = torch.rand(1, 16, 128, 128)
    with torch.no_grad():
        conv.weight.mul_(2)
        y = winograd_conv2d(_cl(x), conv)
    assert winograd_weight(conv.weight) is not first
    ref, scale = _reference(x, conv)
    assert ((y.double() - ref).abs() <= REL * scale).all()


def test_transformed_weight_is_g_g_gt():
    """Position (i, j) of the transform of a kernel that is one at (k, l):
    G[i, k] * G[j, l], formed in float64 and rounded once."""
    w = torch.zeros(1, 1, 3, 3)
    w[0, 0, 0, 2] = 1
    u = winograd_weight(w)
    g = torch.tensor(wmod._G, dtype=torch.float64)
    assert u.shape == (36, 1, 1)
    want = torch.outer(g[:, 0], g[:, 2]).reshape(36).float()
    assert torch.equal(u[:, 0, 0], want)


def test_conditions():
    big = (1, 16, 128, 128)
    assert winograd_ok(_conv(16, 24), big)
    assert not winograd_ok(_conv(8, 24), (1, 8, 128, 128))   # few inputs
    assert not winograd_ok(_conv(16, 24), (1, 16, 64, 64))   # small map
    assert wmod.WINOGRAD_MIN_OUT_CHANNELS == 24
    assert not winograd_ok(_conv(16, 23), big)                 # few outputs
    assert not winograd_ok(_conv(64, 1), (1, 64, 128, 128))
    assert 64 * 64 < WINOGRAD_MIN_PIXELS <= 128 * 128
    assert not winograd_ok(nn.Conv2d(16, 24, 1), big)
    assert not winograd_ok(nn.Conv2d(16, 24, 3, stride=2, padding=1), big)
    assert not winograd_ok(nn.Conv2d(16, 24, 3, padding=1, groups=2), big)
    assert not winograd_ok(nn.Conv2d(16, 24, 3, padding=2, dilation=1), big)
    assert not winograd_ok(
        nn.Conv2d(16, 24, 3, padding=1, padding_mode='reflect'), big)
    hooked = _conv(16, 24)
    hooked.register_forward_hook(lambda *a: None)
    assert not winograd_ok(hooked, big)
    with cpu_kernels(winograd=False):
        assert not winograd_ok(_conv(16, 24), big)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(wmod.WINOGRAD_MAX_THREADS + 1)
        assert not winograd_ok(_conv(16, 24), big)
    finally:
        torch.set_num_threads(old)


def test_errors_name_the_problem():
    conv = _conv(16, 24)
    with pytest.raises(ValueError, match='channels-last'):
        winograd_conv2d(torch.rand(1, 16, 128, 128), conv)
    with pytest.raises(ValueError, match='not a case it computes'):
        winograd_conv2d(_cl(torch.rand(1, 16, 32, 32)), conv)
    with cpu_kernels(winograd=False):
        with pytest.raises(RuntimeError, match='not available'):
            winograd_conv2d(_cl(torch.rand(1, 16, 128, 128)), conv)


def _wide_chain(seed=0):
    torch.manual_seed(seed)
    layers = nn.Sequential(
        nn.Conv2d(2, 32, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(32, 32, 3, padding=2, dilation=2), nn.ReLU(inplace=True),
        nn.Conv2d(32, 32, 3, padding=3, dilation=3), nn.ReLU(inplace=True),
        nn.Conv2d(32, 1, 3, padding=1)).eval()
    with torch.no_grad():
        for p in layers.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return layers


def test_chain_runs_winograd_within_float_rounding():
    layers = _wide_chain()
    x = torch.rand(1, 2, 130, 140)
    calls = []
    real = chain_mod.winograd_conv2d

    def spy(*a, **k):
        calls.append(k.get('relu'))
        return real(*a, **k)

    with torch.no_grad(), mock.patch.object(chain_mod, 'winograd_conv2d',
                                            spy):
        y = run_conv_chain(layers, x)
        ref = layers.double()(x.double())
        layers.float()
    # the two 32 -> 32 convolutions, their ReLUs fused; the 32 -> 1 one
    # (too few outputs) by oneDNN on the channels-last map
    assert calls == [True, True]
    assert y.is_contiguous() and y.shape == (1, 1, 130, 140)
    assert (y.double() - ref).abs().max() < 1e-5 * ref.abs().max()


def test_one_channel_chain_input_needs_no_reorder():
    """A one-channel input is viewed with channels-last strides, so the
    first convolution writes a channels-last map for Winograd's
    convolutions to read: no 32-channel map is reordered."""
    from torch.profiler import profile
    torch.manual_seed(0)
    layers = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
                           nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                           nn.Conv2d(32, 1, 3, padding=1)).eval()
    x = torch.rand(1, 1, 150, 160)   # oneDNN's size (ATen's use_mkldnn)
    with torch.no_grad():
        with profile(record_shapes=True) as prof:
            y = run_conv_chain(layers, x)
        ref = layers.double()(x.double())
    copies = [e.input_shapes for e in prof.events()
              if e.name == 'aten::copy_' and e.input_shapes
              and len(e.input_shapes[0]) == 4 and e.input_shapes[0][1] > 1
              and e.input_shapes[0][2:] == [150, 160]]
    assert copies == []
    assert (y.double() - ref).abs().max() < 1e-5 * ref.abs().max()
    view = chain_mod.channels_last_strides(x)
    assert view.stride() == (150 * 160, 1, 160, 1)
    assert view.data_ptr() == x.data_ptr() and torch.equal(view, x)
    two = torch.rand(2, 3, 8, 9)
    assert chain_mod.channels_last_strides(two).stride() == (216, 1, 27, 3)


def _with_kernels(module, kernel_cls):
    """A copy of the plain ``module`` with its kernel class swapped in."""
    fast = copy.deepcopy(module)
    report = apply_cpu_kernels(fast)
    assert report.swapped == [('', type(module).__name__, kernel_cls)]
    return fast


def test_modules_take_winograd_on_channels_last_maps(monkeypatch):
    """The kernel classes of the TIM networks' reflection-padded convs and
    ECA blocks (``CpuReflectPadConv2d``, ``CpuECABlock``, swapped in by
    :func:`~cpu_kernels.apply_cpu_kernels`): Winograd on a
    channels-last map at inference, within float rounding of the plain
    module's forward; the plain forward on an NCHW map, with autograd on
    and with the switch; the plain modules never take it."""
    from cpu_kernels.direct_conv import conv2d_at_inference
    from mmfusenas.models.ops import ECABlock, ReflectPadConv2d
    torch.manual_seed(0)
    plain_pad_conv = ReflectPadConv2d(32, 24, 3).eval()
    plain_eca = ECABlock(32).eval()
    pad_conv = _with_kernels(plain_pad_conv, 'CpuReflectPadConv2d')
    eca = _with_kernels(plain_eca, 'CpuECABlock')
    x = torch.rand(1, 32, 130, 140)
    calls = []
    real = wmod.winograd_conv2d

    def spy(inp, conv, **k):
        calls.append((tuple(inp.shape), conv))
        return real(inp, conv, **k)

    monkeypatch.setattr('cpu_kernels.direct_conv.winograd_conv2d',
                        spy)
    for plain_module, module, conv in (
            (plain_pad_conv, pad_conv, pad_conv.conv),
            (plain_eca, eca, eca.conv)):
        with torch.no_grad():
            ref = copy.deepcopy(plain_module).double()(x.double())
            calls.clear()
            y = module(_cl(x))
            assert [c for _, c in calls] == [conv]
            assert y.is_contiguous(memory_format=torch.channels_last)
            assert (y.double() - ref).abs().max() < 1e-5 * ref.abs().max()
            calls.clear()
            plain = module(x)                       # NCHW: oneDNN
            assert calls == [] and plain.is_contiguous()
            assert (plain.double() - ref).abs().max() < 1e-5 * ref.abs().max()
            assert torch.equal(plain, plain_module(x))
            plain_module(_cl(x))                    # the plain class: never
            assert calls == []
        y = module(_cl(x))                          # autograd on
        assert calls == [] and y.requires_grad
    assert calls == []
    with torch.no_grad():
        padded = F.pad(_cl(x), (1, 1, 1, 1), mode='reflect')
        assert calls == [] and padded.is_contiguous(
            memory_format=torch.channels_last)
        with cpu_kernels(winograd=False):
            assert torch.equal(conv2d_at_inference(pad_conv.conv, padded),
                               pad_conv.conv(padded))
            assert torch.equal(pad_conv(_cl(x)), plain_pad_conv(_cl(x)))
        assert calls == []
    # the reflection-padded conv reads the reflection itself: no padded map
    from torch.profiler import profile
    with torch.no_grad(), profile() as prof:
        y = pad_conv(_cl(x))
    assert 'aten::reflection_pad2d' not in {e.name for e in prof.events()}
    with torch.no_grad():
        ref = copy.deepcopy(plain_pad_conv).double()(x.double())
    assert (y.double() - ref).abs().max() < 1e-5 * ref.abs().max()
    # the modules keep NCHW maps on their own forward (the authors' values
    # with the switch channels_last=False): no direct few-channel kernel
    narrow = _with_kernels(ReflectPadConv2d(3, 3, 3).eval(),
                           'CpuReflectPadConv2d')
    small = torch.rand(1, 3, 210, 200)
    direct = []
    import cpu_kernels.direct_conv as dmod
    real_direct = dmod.direct_conv2d
    monkeypatch.setattr(dmod, 'direct_conv2d',
                        lambda *a, **k: direct.append(1) or real_direct(*a,
                                                                       **k))
    with torch.no_grad():
        padded = narrow.pad(small)
        assert dmod.direct_conv_ok(narrow.conv, padded)
        assert torch.equal(narrow(small), narrow.conv(padded))
        assert direct == []
        conv2d_at_inference(narrow.conv, padded)       # direct=True
        assert direct == [1]


def test_chain_without_winograd_is_bit_identical():
    layers = _wide_chain()
    x = torch.rand(1, 2, 130, 140)
    with cpu_kernels(winograd=False), torch.no_grad():
        assert torch.equal(run_conv_chain(layers, x), layers(x))


def test_hqs_denoiser_and_proxy_keep_their_values():
    """HQS's proxy and dilated denoiser at 128 x 128 with their kernel
    classes (their conv chains in oneDNN's blocked layout, the convs of
    width 64 by Winograd) against the plain networks' float64 forward."""
    from mmfusenas.models.restoration.proxy_nets import (DilatedDenoiser,
                                                         NoiseLevelProxy)
    torch.manual_seed(0)
    plain_proxy, plain_den = NoiseLevelProxy().eval(), DilatedDenoiser().eval()
    proxy, den = copy.deepcopy(plain_proxy), copy.deepcopy(plain_den)
    for net in (proxy, den):
        assert apply_cpu_kernels(net).swapped == [
            ('body', 'Sequential', 'CpuConvChain')]
    x = torch.rand(1, 1, 128, 128)
    with torch.no_grad():
        g = proxy(x)
        y = den(x, g)
        g64 = plain_proxy.double()(x.double())
        y64 = plain_den.double()(x.double(), g64)
    assert (g.double() - g64).abs().max() < 1e-5 * g64.abs().max()
    assert (y.double() - y64).abs().max() < 1e-5


def test_chain_leaves_its_input_unchanged():
    """A chain whose first layers hand the input on (Identity, then ReLU)
    must not apply the ReLU in place to the caller's map (one channel: the
    channels-last map is the input itself)."""
    torch.manual_seed(0)
    layers = nn.Sequential(nn.Identity(), nn.ReLU(),
                           nn.Conv2d(1, 16, 3, padding=1),
                           nn.Conv2d(16, 16, 3, padding=1)).eval()
    x = torch.randn(1, 1, 128, 128)
    before = x.clone()
    with torch.no_grad():
        y = run_conv_chain(layers, x)
        ref = layers.double()(before.double())
    assert torch.equal(x, before)
    assert (y.double() - ref).abs().max() < 1e-5 * ref.abs().max()
