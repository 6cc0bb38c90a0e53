"""TIM operators: parameter counts, parsing, hand-checked semantics,
guided filter and gradients; their CPU kernel classes (put in by
``cpu_kernels.apply_cpu_kernels``) against the plain modules."""
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from cpu_kernels import apply_cpu_kernels, remove_cpu_kernels
from cpu_kernels.modules import CpuResidualUpSample, CpuSKFF
from mmfusenas.models.ops import (SKFF, TIM_OP_NAMES, AntiAliasDownsample,
                                  DenseBlock, DilConv, DownSample, ECALayer,
                                  ResidualDownSample, ResidualUpSample,
                                  SpatialAttentionBlock, SpatialMask, UpSample,
                                  box_sum, build_tim_op, guided_filter,
                                  tim_op_cfg)
from mmfusenas.registry import MODELS
from cpu_kernels.switches import cpu_kernels


def num_params(module):
    return sum(p.numel() for p in module.parameters())


# reference table 2.3 (official classes), widths 48 / 96 / 192
OP_PARAMS = {
    'Denseblocks_3_1': (2593, 5185, 10369),
    'Denseblocks_5_1': (7201, 14401, 28801),
    'Residualblocks_3_1': (3265, 11137, 40705),
    'Residualblocks_3_2': (3265, 11137, 40705),
    'Residualblocks_5_1': (4033, 12673, 43777),
    'DilConv_3_2': (2832, 10272, 38976),
    'SepConv_3_1': (5664, 20544, 77952),
    'ECAattention_3': (20740, 82948, 331780),
    'SPAattention_3': (18, 18, 18),
    'NonLocalattention_3': (50689, 202753, 811009),
}


@pytest.mark.parametrize('name', sorted(OP_PARAMS))
def test_op_parameter_counts_match_official(name):
    got = tuple(num_params(build_tim_op(name, c)) for c in (48, 96, 192))
    assert got == OP_PARAMS[name]


def test_op_configs_of_official_strings():
    assert tim_op_cfg('Denseblocks_5_1') == dict(
        type='DenseBlock', kernel_size=5, dilation=1)
    assert tim_op_cfg('Residualblocks_3_2') == dict(
        type='ResidualBlock', kernel_size=3, dilation=2)
    # official quirk: third field is the stride, padding fixed at 1
    assert tim_op_cfg('SepConv_5_1') == dict(
        type='SepConv', kernel_size=5, stride=1, padding=1)
    assert tim_op_cfg('ECAattention_5') == dict(type='ECABlock', kernel_size=5)
    assert tim_op_cfg('SPAattention_3') == dict(
        type='SpatialAttentionBlock', kernel_size=3)
    assert tim_op_cfg('skip') == dict(type='SkipConnect')
    assert tim_op_cfg('zero') == dict(type='Zero')
    assert len(TIM_OP_NAMES) == 4 * 6 + 3 * 3 + 2


def test_ops_build_alone_from_config():
    op = MODELS.build(
        dict(type='DenseBlock', channels=48, kernel_size=3, dilation=1))
    assert isinstance(op, DenseBlock)
    assert num_params(op) == 2593
    assert num_params(MODELS.build(dict(type='ResidualBlock',
                                        channels=48))) == 3265
    assert num_params(MODELS.build(dict(type='ECABlock', channels=96))) \
        == 82948


@pytest.mark.parametrize('name, message', [
    ('Foo_3_1', "unknown TIM op 'Foo_3_1'"),
    ('Denseblocks_3', "invalid TIM op 'Denseblocks_3'"),
    ('Denseblocks_4_1', "invalid TIM op 'Denseblocks_4_1'"),
    ('DilConv_3_3', "invalid TIM op 'DilConv_3_3'"),
    ('ECAattention_3_1', "invalid TIM op 'ECAattention_3_1'"),
    ('NonLocalattention', "invalid TIM op 'NonLocalattention'"),
    ('SepConv_x_1', "invalid TIM op 'SepConv_x_1'"),
])
def test_invalid_op_names_raise_listing_valid_forms(name, message):
    with pytest.raises(ValueError) as err:
        build_tim_op(name, 8)
    assert message in str(err.value)
    assert 'Denseblocks_<k>_<d>' in str(err.value)
    assert 'SPAattention_<k>' in str(err.value)
    with pytest.raises(TypeError, match='must be a str'):
        tim_op_cfg(3)


def test_every_op_maps_c_to_c_and_sepconv_stride_quirk():
    x = torch.randn(1, 4, 16, 16)
    shrinking = {
        'SepConv_5_1': (12, 12),  # (16 + 2 - 5) + 1, twice
        'SepConv_7_1': (8, 8),
        'SepConv_3_2': (8, 8),  # stride 2 in the first conv
        'SepConv_5_2': (5, 5),  # 7 then 7 + 2 - 5 + 1
        'SepConv_7_2': (2, 2),
    }
    for name in TIM_OP_NAMES:
        out = build_tim_op(name, 4)(x)
        assert out.shape[:2] == (1, 4), name
        assert tuple(out.shape[2:]) == shrinking.get(name, (16, 16)), name


def test_dense_block_grouped_channel_mixing_and_literal_scale():
    torch.manual_seed(0)
    c = 6
    block = DenseBlock(c, 3, 1)
    assert block.conv1.weight.shape == (c, 1, 3, 3)
    assert block.conv2.weight.shape == (c, 2, 3, 3)
    assert block.conv3.weight.shape == (c, 3, 3, 3)
    x, x1 = torch.randn(2, c, 5, 5), torch.randn(2, c, 5, 5)
    base = block.conv2(torch.cat((x, x1), 1))
    changed_x1 = block.conv2(torch.cat((x, x1 + 1), 1))
    changed_x = block.conv2(torch.cat((x + 1, x1), 1))
    half = c // 2
    # outputs 0..C/2-1 see only x, outputs C/2..C-1 see only x1
    assert torch.equal(base[:, :half], changed_x1[:, :half])
    assert not torch.allclose(base[:, half:], changed_x1[:, half:])
    assert torch.equal(base[:, half:], changed_x[:, half:])
    assert not torch.allclose(base[:, :half], changed_x[:, :half])
    # out = 0.333 * x3 + x (the official literal, not 1/3)
    a1 = block.act(block.conv1(x))
    a2 = block.act(block.conv2(torch.cat((x, a1), 1)))
    a3 = block.act(block.conv3(torch.cat((x, a1, a2), 1)))
    assert torch.equal(block(x), a3 * 0.333 + x)


def test_residual_block_second_conv_is_fixed_3x3_dilation_2():
    op = build_tim_op('Residualblocks_5_1', 8)
    first, second = op.layers[0], op.layers[1]
    assert (first.kernel_size, first.dilation, first.padding) == \
        ((5, 5), (1, 1), (2, 2))
    assert (second.kernel_size, second.dilation, second.padding) == \
        ((3, 3), (2, 2), (2, 2))
    x = torch.randn(1, 8, 9, 9)
    assert torch.equal(op(x), x + op.layers(x))


def test_dilconv_residual_and_darts_form():
    torch.manual_seed(0)
    op = DilConv(4, 3, 2).eval()
    plain = DilConv(4, 3, 2, residual=False).eval()
    plain.load_state_dict(op.state_dict())
    x = torch.randn(1, 4, 7, 7)
    assert torch.equal(op(x), plain(x) + x)


def test_eca_layer_equals_hand_computation():
    eca = ECALayer(3)
    with torch.no_grad():
        eca.conv.weight.copy_(torch.tensor([[[0.5, -1.0, 2.0]]]))
    x = torch.arange(16, dtype=torch.float32).reshape(1, 4, 2, 2) / 10
    m = x.mean(dim=(2, 3)).flatten().tolist()  # 0.15, 0.55, 0.95, 1.35
    padded = [0.0] + m + [0.0]
    # conv along the channel axis, zero padding at both ends
    logits = [
        0.5 * padded[c] - 1.0 * padded[c + 1] + 2.0 * padded[c + 2]
        for c in range(4)
    ]
    expected = x * torch.sigmoid(torch.tensor(logits)).view(1, 4, 1, 1)
    torch.testing.assert_close(eca(x), expected, rtol=0, atol=1e-7)


def test_spatial_attention_equals_hand_computation():
    block = SpatialAttentionBlock(channels=3, kernel_size=3)
    with torch.no_grad():
        weight = torch.zeros(1, 2, 3, 3)
        weight[0, 0, 1, 1] = 0.7  # max map, centre tap
        weight[0, 1, 0, 0] = -1.3  # mean map, top-left tap
        block.mask.conv.weight.copy_(weight)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 5)
    max_map = x.max(dim=1, keepdim=True)[0]
    mean_map = x.mean(dim=1, keepdim=True)
    # top-left tap at (i, j) reads mean[i-1, j-1] (zero outside)
    shifted = F.pad(mean_map, (1, 0, 1, 0))[..., :4, :5]
    expected = x * torch.sigmoid(0.7 * max_map - 1.3 * shifted)
    torch.testing.assert_close(block(x), expected, rtol=0, atol=1e-6)
    assert sum(p.numel() for p in block.parameters()) == 18


def test_spatial_mask_pools_max_twice_then_mean():
    mask = SpatialMask(1, pools=('max', 'max', 'mean'))
    with torch.no_grad():
        mask.conv.weight.copy_(torch.tensor([0.2, 0.3, -0.5]).view(1, 3, 1, 1))
    x = torch.randn(2, 5, 3, 3)
    expected = torch.sigmoid(0.5 * x.max(1, keepdim=True)[0] -
                             0.5 * x.mean(1, keepdim=True))
    torch.testing.assert_close(mask(x), expected, rtol=0, atol=1e-6)


def test_skff_weights_are_a_softmax_over_branches():
    torch.manual_seed(0)
    skff = SKFF(16)
    assert skff.conv_du[0].out_channels == 4  # max(int(16 / 8), 4)
    assert sum(p.numel() for p in SKFF(48).parameters()) == 1153
    feats = [torch.randn(2, 16, 5, 5) for _ in range(3)]
    weights = skff._weights(torch.stack(feats, 1))
    assert weights.shape == (2, 3, 16, 1, 1)
    torch.testing.assert_close(
        weights.sum(dim=1), torch.ones(2, 16, 1, 1), rtol=0, atol=1e-6)
    expected = sum(weights[:, i] * feats[i] for i in range(3))
    torch.testing.assert_close(skff(feats), expected, rtol=0, atol=1e-6)
    # identical branches come back unchanged
    torch.testing.assert_close(skff([feats[0]] * 3), feats[0])
    with pytest.raises(ValueError, match='expects 3 branches, got 2'):
        skff(feats[:2])
    # channels-last branches, plain module: the same function
    cl = [f.contiguous(memory_format=torch.channels_last).requires_grad_()
          for f in feats]
    torch.testing.assert_close(skff(cl), expected, rtol=0, atol=1e-6)
    # its CPU kernel class: branch-by-branch sums of channels-last
    # branches, same values (float rounding), a channels-last output, same
    # gradients; NCHW branches take the plain path
    fast = SKFF(16)
    fast.load_state_dict(skff.state_dict())
    assert apply_cpu_kernels(fast).swapped == [('', 'SKFF', 'CpuSKFF')]
    assert type(fast) is CpuSKFF
    assert torch.equal(fast(feats), skff(feats))
    out = fast(cl)
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)
    plain = [f.clone().requires_grad_() for f in feats]
    g = torch.randn_like(expected)
    out.backward(g)
    skff(plain).backward(g)
    for a, b in zip(cl, plain):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match='expects 3 branches, got 2'):
        fast(cl[:2])
    remove_cpu_kernels(fast)
    assert type(fast) is SKFF


def test_antialias_downsample_and_sampling_blocks():
    down = AntiAliasDownsample(3)
    assert 'kernel' in down.state_dict()
    expected = torch.tensor([[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]]) / 16
    assert torch.equal(down.kernel[2, 0], expected)
    assert down(torch.randn(1, 3, 5, 7)).shape == (1, 3, 3, 4)  # ceil
    const = torch.full((1, 3, 6, 6), 0.25)
    assert torch.equal(down(const), torch.full((1, 3, 3, 3), 0.25))
    assert num_params(ResidualDownSample(48)) == 14 * 48**2 + 2
    assert num_params(ResidualUpSample(96)) == 11 * 96**2 + 2
    assert num_params(DownSample(48, 4)) == 32258 + 129026
    assert num_params(UpSample(192, 4)) == 405506 + 101378
    x = torch.randn(1, 8, 8, 8)
    assert DownSample(8, 4)(x).shape == (1, 32, 2, 2)
    assert UpSample(8, 2)(x).shape == (1, 4, 16, 16)
    with pytest.raises(ValueError, match='power of 2'):
        DownSample(8, 3)


def _official_up_sample(block, x):
    """ResidualUpSample in the official order: resample, then the 1 x 1."""
    return block.top(x) + block.bot(x)


def _cpu_up_sample(block):
    """``block`` with its CPU kernel class (the commuted order)."""
    assert apply_cpu_kernels(block).swapped == [
        ('', 'ResidualUpSample', 'CpuResidualUpSample')]
    assert type(block) is CpuResidualUpSample
    return block


@pytest.mark.parametrize('size', [(5, 7), (8, 8)])
def test_residual_up_sample_commuted_order_is_the_official_function(size):
    # the CPU kernel class runs the 1 x 1 before the bilinear resampling on
    # a channels-last map (a quarter of the pixels); in float64 both orders
    # agree to rounding, gradients included
    torch.manual_seed(0)
    block = ResidualUpSample(6).double()
    x = torch.randn(2, 6, *size, dtype=torch.float64).contiguous(
        memory_format=torch.channels_last).requires_grad_()
    # the plain module: the official order on any layout, bit for bit
    assert torch.equal(block(x), _official_up_sample(block, x))
    ref = _official_up_sample(block, x)
    _cpu_up_sample(block)
    out = block(x)
    # NCHW: the official order, bit for bit
    xn = x.detach().contiguous()
    assert torch.equal(block(xn), _official_up_sample(block, xn))
    assert out.shape == (2, 3, 2 * size[0], 2 * size[1])
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-13)
    g = torch.randn_like(out)
    grads = torch.autograd.grad(out, [x, *block.parameters()], g)
    refs = torch.autograd.grad(ref, [x, *block.parameters()], g)
    for a, b in zip(grads, refs):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    # the bot branch alone: the resampling is what commutes with the 1 x 1
    conv = block.bot[1]
    assert block.bot[0](conv(x)).abs().max() > 0.1
    torch.testing.assert_close(
        block.bot[0](conv(x)), block.bot(x), rtol=0, atol=1e-13)


def _record_bot_conv_inputs(block):
    seen = []
    block.bot[1].register_forward_hook(
        lambda m, i, o: seen.append(tuple(i[0].shape)))
    return seen


def test_residual_up_sample_switch_keeps_the_official_order():
    torch.manual_seed(2)
    block = ResidualUpSample(8)
    x = torch.randn(2, 8, 6, 6).contiguous(memory_format=torch.channels_last)
    official = _official_up_sample(block, x)
    seen = _record_bot_conv_inputs(block)
    # the plain module: the official order, also on channels-last maps
    assert torch.equal(block(x), official)
    assert seen == [(2, 8, 12, 12)]
    seen.clear()
    _cpu_up_sample(block)
    commuted = block(x)
    assert seen == [(2, 8, 6, 6)]  # the 1 x 1 on the map before resampling
    torch.testing.assert_close(commuted, official, rtol=0, atol=1e-5)
    seen.clear()
    with cpu_kernels(commuted_upsampling=False):
        assert torch.equal(block(x), official)
    assert seen == [(2, 8, 12, 12)]  # the official order
    seen.clear()
    remove_cpu_kernels(block)
    assert type(block) is ResidualUpSample
    assert torch.equal(block(x), official)
    assert seen == [(2, 8, 12, 12)]


def test_residual_up_sample_float32_and_fast_training_within_rounding():
    from cpu_kernels.fast_training import (FastPReLU, PointwiseConv2d,
                                                 to_channels_last)
    torch.manual_seed(1)
    block = ResidualUpSample(16)
    x = torch.randn(2, 16, 12, 10)
    ref = _official_up_sample(block.double(), x.double())
    block = block.float()
    torch.testing.assert_close(block(x).double(), ref, rtol=0, atol=2e-6)
    torch.testing.assert_close(
        block(to_channels_last(x)).double(), ref, rtol=0, atol=2e-6)
    # the fast training path on the block as a bare network: its own
    # kernel class, FastPReLU / PointwiseConv2d inside, channels-last
    # parameters and inputs
    report = apply_cpu_kernels(block, training=True)
    assert report.fast_training == ['']
    assert type(block) is CpuResidualUpSample
    assert type(block.bot[1]) is PointwiseConv2d
    assert any(type(m) is FastPReLU for m in block.top)
    seen = _record_bot_conv_inputs(block)
    xc = x.clone().requires_grad_()     # NCHW: the pre-hook converts it
    out = block(xc)
    assert seen == [(2, 16, 12, 10)]    # the commuted order
    torch.testing.assert_close(out.double(), ref, rtol=0, atol=2e-6)
    out.sum().backward()
    xd = x.double().requires_grad_()
    _official_up_sample(block.double(), xd).sum().backward()
    torch.testing.assert_close(xc.grad.double(), xd.grad, rtol=0, atol=1e-5)


def _band(size, radius):
    idx = torch.arange(size, dtype=torch.float64)
    return ((idx[:, None] - idx[None, :]).abs() <= radius).double()


def brute_box(x, radius):
    """Window sums as band-matrix products: M_H @ X @ M_W^T."""
    h, w = x.shape[-2:]
    return _band(h, radius) @ x @ _band(w, radius).T


def brute_guided_filter(guide, src, radius, eps):
    n = brute_box(torch.ones_like(src[:1, :1]), radius)
    mean_i = brute_box(guide, radius) / n
    mean_p = brute_box(src, radius) / n
    cov = brute_box(guide * src, radius) / n - mean_i * mean_p
    var = brute_box(guide * guide, radius) / n - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return brute_box(a, radius) / n * guide + brute_box(b, radius) / n


def test_box_sum_counts_clipped_windows():
    counts = box_sum(torch.ones(1, 1, 7, 9), 2)
    assert counts[0, 0, 0, 0] == 9  # corner: 3 x 3 in-image pixels
    assert counts[0, 0, 3, 4] == 25  # interior: full 5 x 5
    assert counts[0, 0, 0, 4] == 15  # top edge: 3 x 5
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    for radius in (0, 1, 2, 4, 10):
        torch.testing.assert_close(box_sum(x, radius), brute_box(x, radius))


def test_guided_filter_matches_brute_force():
    torch.manual_seed(0)
    src = torch.rand(2, 3, 11, 13, dtype=torch.float64)
    guide = src.max(1, keepdim=True)[0] - src.min(1, keepdim=True)[0]
    for radius, eps in ((2, 1e-3), (4, 1e-4)):
        out = guided_filter(guide, src, radius, eps)
        torch.testing.assert_close(
            out, brute_guided_filter(guide, src, radius, eps))
        # the official cell repeats the guide to C channels: same result
        torch.testing.assert_close(
            guided_filter(guide.repeat(1, 3, 1, 1), src, radius, eps), out)
    with pytest.raises(ValueError, match='guide'):
        guided_filter(guide[..., :5], src, 2, 1e-3)


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    block = DenseBlock(2, 3, 1).double()
    params = dict(block.named_parameters())

    def run(x, weight):
        return functional_call(block, {
            **params, 'conv2.weight': weight
        }, (x, ))

    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    weight = params['conv2.weight'].detach().clone().requires_grad_(True)
    # fast mode: finite differences along random directions vs autograd
    assert torch.autograd.gradcheck(run, (x, weight), fast_mode=True)
    src = torch.rand(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    guide = torch.rand(1, 1, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda g, s: guided_filter(g, s, 2, 1e-2),
                                    (guide, src))


def test_skip_and_zero():
    x = torch.randn(1, 4, 3, 3)
    assert build_tim_op('skip', 4)(x) is x
    assert torch.equal(build_tim_op('zero', 4)(x), torch.zeros_like(x))


@pytest.mark.parametrize('kernels, switch, official_order', [
    (False, True, True), (True, True, False), (True, False, True)])
def test_residual_up_sample_exported_graph_order(kernels, switch,
                                                 official_order, tmp_path):
    # an exported graph (NCHW, so the eager order would be the official one)
    # of the CPU kernel class takes the cheaper order unless switched off;
    # the plain module exports the official order; ONNX Runtime's output
    # equals the float64 official function within float rounding
    pytest.importorskip('onnxscript', reason='the ONNX exporter needs '
                        'onnxscript')
    onnx = pytest.importorskip('onnx')
    import numpy as np

    from mmfusenas.apis.deploy import export_network
    torch.manual_seed(3)
    net = torch.nn.Sequential(ResidualUpSample(8)).eval()
    if kernels:
        apply_cpu_kernels(net)
        assert type(net[0]) is CpuResidualUpSample
    x = torch.randn(1, 8, 10, 12)
    path = str(tmp_path / 'up.onnx')
    with cpu_kernels(commuted_upsampling=switch):
        export_network(net, x, path)
    ops = [n.op_type for n in onnx.load(path).graph.node]
    # top: Conv, PReLU, ConvTranspose, PReLU, Conv; then bot and the sum
    assert ops[-3:] == (['Resize', 'Conv', 'Add'] if official_order else
                        ['Conv', 'Resize', 'Add'])
    assert ops.count('Conv') == 3 and ops.count('Resize') == 1
    ort = pytest.importorskip('onnxruntime')
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        ref = _official_up_sample(net[0].double(), x.double()).numpy()
    np.testing.assert_allclose(out, ref, rtol=0, atol=2e-6)
