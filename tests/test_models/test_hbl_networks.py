"""HBL operators, Hadamard unit, encoder / decoder, supernet and fixed nets."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmfusenas.models import (ArchParams, Genotype, HadamardUnit, HBLNet,
                              bind_arch_params, build_genotype_net,
                              fix_space_cfg, hadamard_divide,
                              hbl_genotype_choices, hbl_network_cfg)
from mmfusenas.models.ops import (HBL_CODEC_OPS, HBL_HNU_OPS, HBLConv,
                                  StatsBatchNorm2d, build_edge, hbl_op_cfg)
from mmfusenas.models.restoration import pad_to_multiple
from mmfusenas.registry import MODELS
from cpu_kernels.switches import cpu_kernels

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GENOTYPES = Config.fromfile(
    osp.join(ROOT, 'configs/_base_/models/hbl_genotypes.py'))
SPACE = Config.fromfile(
    osp.join(ROOT, 'configs/_base_/models/hbl_search_space.py'))

# the official github.com/zhudear/HBLALS_pytorch networks, built with torch
OFFICIAL_COUNTS = dict(
    lol=(73136, 369664, 85040, 527840),
    mit=(82992, 316416, 54704, 454112),
    sihr=(35888, 407552, 77232, 520672),
    uie=(66992, 261120, 103856, 431968))


def _count(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize('name', sorted(OFFICIAL_COUNTS))
def test_official_genotype_parameter_counts(name):
    net = MODELS.build(GENOTYPES[f'hbl_{name}_network'])
    enc, units, dec = net.part_parameters()
    assert (enc, units, dec, enc + units + dec) == OFFICIAL_COUNTS[name]
    # the config helper gives the same network config
    assert GENOTYPES[f'hbl_{name}_network'].to_dict() == hbl_network_cfg(
        GENOTYPES[f'hbl_{name}_genotype'], bn_test_stats='running')


def test_supernet_counts_keys_and_derivation():
    net = MODELS.build(SPACE.hbl_supernet)
    assert net.part_parameters() == [233536, 3899392, 233536]
    keys = bind_arch_params(net, ArchParams())
    assert len(keys) == 9 + 9 + 7 * 8
    for name in OFFICIAL_COUNTS:
        geno = GENOTYPES[f'hbl_{name}_genotype']
        fixed = fix_space_cfg(SPACE.hbl_supernet.to_dict(),
                              hbl_genotype_choices(geno))
        assert fixed == hbl_network_cfg(geno)


def test_op_parameter_counts_by_hand():
    c = 32
    expected = dict(
        skip_connect=0,
        conv_1x1=c * c,
        conv_3x3=9 * c * c,
        dilconv_3x3=9 * c * c,
        resconv_1x1=c * c,
        resconv_3x3=9 * c * c,
        resdilconv_3x3=9 * c * c,
        denseblocks_1x1=c * c + 2 * c * c,
        denseblocks_3x3=9 * c * c + 9 * 2 * c * c)
    for name in HBL_HNU_OPS:
        assert _count(build_edge(hbl_op_cfg(name), c)) == expected[name]
    assert _count(build_edge(hbl_op_cfg('conv_5x5', 16), 3)) == 25 * 3 * 16
    assert set(HBL_CODEC_OPS) <= set(expected) | {'conv_5x5'}
    with pytest.raises(ValueError, match='skip_connect cannot change'):
        hbl_op_cfg('skip_connect', 16)
    with pytest.raises(KeyError, match='unknown HBL op'):
        hbl_op_cfg('sep_conv_3x3')


def test_ops_are_bias_free_same_padding_and_residual():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 9, 11)
    res = build_edge(hbl_op_cfg('resdilconv_3x3'), 4)
    assert res.conv.bias is None and res.conv.dilation == (2, 2)
    assert torch.allclose(res(x), res.conv(x) + x)
    dense = build_edge(hbl_op_cfg('denseblocks_3x3'), 4)
    ref = dense.conv2(torch.cat([x, F.relu(dense.conv1(x))], 1))
    assert torch.equal(dense(x), ref) and dense(x).shape == x.shape
    with pytest.raises(ValueError, match='residual conv needs'):
        HBLConv(4, 3, residual=True, out_channels=8)


def test_hadamard_divide_clamp_hand_values():
    r = torch.tensor([1.0, 2.0, -3.0, 0.5])
    i = torch.tensor([0.0, -10.0, 100.0, -4.59511985])  # σ = .5, ~0, 1, .01
    out = hadamard_divide(r, i, eps=0.01)
    expected = torch.tensor([2.0, 200.0, -3.0, 50.0])
    assert torch.allclose(out, expected, rtol=1e-5)
    # below the clamp the gradient w.r.t. I is zero
    i = i.clone().requires_grad_(True)
    hadamard_divide(r, i).sum().backward()
    assert i.grad[1] == 0 and i.grad[0] != 0


def test_hadamard_unit_matches_its_definition():
    torch.manual_seed(0)
    ops = ['conv_3x3', 'skip_connect', 'denseblocks_1x1', 'resconv_1x1'] + \
        ['skip_connect'] * 4
    unit = HadamardUnit(8, ops)
    x = torch.randn(2, 8, 6, 6)
    bn = (lambda t: F.batch_norm(t, None, None, training=True, eps=1e-5))
    h = F.relu(bn(unit.r_ops[0](x)))
    h = F.relu(bn(h))
    h = F.relu(bn(unit.r_ops[2](h)))
    r = F.relu(bn(unit.r_ops[3](h)) + x)
    g = x
    for k in range(4):
        g = bn(g) if k == 3 else F.relu(bn(g))
    i = F.relu(g + x)
    expected = r / torch.sigmoid(i).clamp(min=0.01)
    assert torch.allclose(unit(x), expected, atol=1e-5)
    assert _count(unit) == 9 * 64 + 0 + 64 * 3 + 64
    with pytest.raises(ValueError, match='8 edge specs'):
        HadamardUnit(8, ops[:7])


def test_stats_batchnorm_per_image_mode():
    torch.manual_seed(0)
    bn = StatsBatchNorm2d(3)
    x = torch.randn(4, 3, 5, 5) * 3 + 1
    bn.train()
    bn(x)  # running stats move
    running = bn.running_mean.clone()
    bn.eval()
    standard = bn(x)
    bn.test_stats = 'per_image'
    per_image = bn(x)
    assert torch.equal(bn.running_mean, running)
    # each image normalised with its own statistics = train-mode BN at N=1
    for n in range(4):
        ref = F.batch_norm(x[n:n + 1], None, None, training=True, eps=bn.eps)
        assert torch.allclose(per_image[n:n + 1], ref, atol=1e-6)
    assert not torch.allclose(standard, per_image)
    with pytest.raises(ValueError, match='test_stats'):
        bn.test_stats = 'batch'


def test_reflect_padding_split_and_crop():
    x = torch.arange(5 * 7, dtype=torch.float).view(1, 1, 5, 7)
    padded, pads = pad_to_multiple(x, 4)
    # W 7 -> 8: 0 left, 1 right; H 5 -> 8: 1 top, 2 bottom (floor left/top)
    assert pads == (0, 1, 1, 2) and padded.shape[-2:] == (8, 8)
    assert torch.equal(padded, F.pad(x, pads, mode='reflect'))
    net = MODELS.build(GENOTYPES.hbl_uie_network)
    for shape in [(1, 3, 13, 18), (2, 3, 16, 16)]:
        assert net(torch.rand(shape)).shape == shape
    with pytest.raises(RuntimeError):  # the first conv
        net(torch.rand(1, 1, 8, 8))


def test_bn_test_stats_option_and_batch_independence():
    torch.manual_seed(0)
    net = MODELS.build(
        dict(GENOTYPES.hbl_lol_network.to_dict(), bn_test_stats='per_image'))
    assert net.units[0].r_norms[0].test_stats == 'per_image'
    net.eval()
    x = torch.rand(2, 3, 12, 12)
    with torch.no_grad():
        both = net(x)
        alone = net(x[1:])
    # per-image statistics: an image's output does not depend on its batch
    assert torch.allclose(both[1:], alone, atol=1e-3)
    net.set_bn_test_stats('running')
    assert all(m.test_stats == 'running' for m in net.modules()
               if isinstance(m, StatsBatchNorm2d))


def test_genotype_round_trip_rebuilds_identical_network(tmp_path):
    geno = GENOTYPES.hbl_mit_genotype
    g = Genotype.from_space(SPACE.hbl_supernet.to_dict(),
                            hbl_genotype_choices(geno))
    path = str(tmp_path / 'hbl_mit.yaml')
    g.dump(path)
    rebuilt = build_genotype_net(path, space=SPACE.hbl_supernet.to_dict())
    ref = MODELS.build(GENOTYPES.hbl_mit_network)
    rebuilt.load_state_dict(ref.state_dict())
    x = torch.rand(1, 3, 16, 20)
    with torch.no_grad():
        assert torch.equal(rebuilt.eval()(x), ref.eval()(x))


def test_supernet_forward_and_alpha_gradient():
    """Every α of the supernet gets a gradient, and it equals a central
    finite difference of the loss (float64)."""
    torch.manual_seed(0)
    net = MODELS.build(SPACE.hbl_supernet)
    ap = ArchParams()
    bind_arch_params(net, ap)
    net.double(), ap.double()
    x = torch.rand(1, 3, 8, 8, dtype=torch.float64)
    y = net(x)
    assert isinstance(net, HBLNet) and y.shape == x.shape
    y.square().mean().backward()
    alphas = list(ap.parameters())
    assert alphas and all(p.grad.abs().sum() > 0 for p in alphas)
    h = 1e-6
    for p in alphas[:3]:
        with torch.no_grad():
            p[0] += h
            up = net(x).square().mean().item()
            p[0] -= 2 * h
            down = net(x).square().mean().item()
            p[0] += h
        assert p.grad[0].item() == pytest.approx((up - down) / (2 * h),
                                                 rel=1e-3)


def test_inference_runs_channels_last_within_float_rounding():
    """With the CPU kernels (``apply_cpu_kernels``) the LOL network runs
    on channels-last maps at CPU inference (its convolutions see
    channels-last inputs; Winograd's where they pay) and its output equals
    the NCHW pass (``channels_last=False``, the authors' order) within
    float rounding; with autograd on it stays NCHW. The plain network
    runs NCHW."""
    from cpu_kernels import apply_cpu_kernels, remove_cpu_kernels
    torch.manual_seed(0)
    net = MODELS.build(GENOTYPES['hbl_lol_network']).eval()
    net.set_bn_test_stats('per_image')
    x = torch.rand(1, 3, 130, 190)
    seen = []
    conv = net.encoder.ops[1].conv        # a 16 -> 16 conv at full size
    conv.register_forward_pre_hook(lambda m, a: seen.append(
        a[0].is_contiguous(memory_format=torch.channels_last)))
    with torch.no_grad():
        plain = net(x)
    assert seen == [False]
    seen.clear()
    apply_cpu_kernels(net)
    with torch.no_grad():
        y = net(x)
        with cpu_kernels(channels_last=False):
            nchw = net(x)
        ref = net.double()(x.double())
        net.float()
    assert seen == [True, False, False]   # the float64 pass: NCHW
    assert y.shape == nchw.shape == (1, 3, 130, 190)
    # the Hadamard divisions amplify float32 rounding: both passes are
    # about 2e-5 off float64 here (1.5-2.5e-5 over seeds), alike
    err, err_nchw = ((t.double() - ref).abs().max() for t in (y, nchw))
    assert err < 1e-4 * ref.abs().max() and err < 2 * err_nchw + 1e-6
    seen.clear()
    net(x)                                # autograd on: NCHW
    assert seen == [False]
    assert torch.equal(nchw, plain)       # the switch off: the plain pass
    remove_cpu_kernels(net)
    with torch.no_grad():
        assert torch.equal(net(x), plain)
