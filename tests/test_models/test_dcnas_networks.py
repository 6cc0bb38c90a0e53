"""DCNAS ops, one-shot choice points, supernet and fixed network."""
import pytest
import torch
import torch.nn.functional as F

from mmfusenas.models.gisr import (EXAMPLE_ARCH, DCNASNet, arch_to_choices,
                                   choices_to_arch, dcnas_space,
                                   num_pruned_rgb_stages)
from mmfusenas.models.mutables import (OneShotChoice, apply_choices,
                                       encode_choices, one_shot_space,
                                       random_choices)
from mmfusenas.models.ops import (FUSION_OP_NAMES, MB_OP_NAMES,
                                  ElasticMBConv, EnergyFusion, MBConvSE,
                                  MMAFusion, build_fusion_op)


def nparams(m):
    return sum(p.numel() for p in m.parameters())


def test_base_op_param_counts_match_reference():
    # reference §3 (= official LUT), C = 16
    expected = [1462, 2118, 2774, 3430, 4086, 1974, 2886, 3798, 4710, 5622,
                2742, 4038, 5334, 6630, 7926]
    got = [nparams(MBConvSE(16, k, r)) for k in (3, 5, 7)
           for r in range(2, 7)]
    assert got == expected
    assert MB_OP_NAMES[1] == 'mb_k3_r2' and MB_OP_NAMES[6] == 'mb_k5_r2'
    assert MB_OP_NAMES[15] == 'mb_k7_r6' and len(MB_OP_NAMES) == 16


def test_fusion_op_param_counts():
    counts = [nparams(build_fusion_op(n, 16)) for n in FUSION_OP_NAMES]
    assert counts == [0, 512, 0, 0, 11883, 0, 0]


@pytest.mark.parametrize('c,expected', [(16, 544981), (8, 144415)])
def test_static_model_params_example_arch(c, expected):
    net = DCNASNet(EXAMPLE_ARCH, num_features=c)
    assert nparams(net) == expected
    # fuse ops [skip_rgb, skip_rgb, energy, skip_rgb]: 2 rgb stages remain
    assert net.num_rgb_stages == 2 and len(net.down_rgb) == 1


@pytest.mark.parametrize('b,c,expected', [(4, 16, 5206328), (4, 8, 1539332),
                                          (2, 16, 3199256), (2, 8, 918980)])
def test_supernet_params(b, c, expected):
    assert nparams(DCNASNet(num_blocks=b, num_features=c)) == expected


def test_arch_round_trip_and_keys():
    choices = arch_to_choices(EXAMPLE_ARCH)
    assert choices['rgb_encoder.2.0'] == 'mb_k5_r2'
    assert choices['fusion.2'] == 'energy'
    assert choices_to_arch(choices) == EXAMPLE_ARCH
    assert list(dcnas_space(4, 4))[:2] == ['rgb_encoder.0.0',
                                           'rgb_encoder.0.1']
    assert len(dcnas_space(4, 4)) == 52
    assert num_pruned_rgb_stages(['skip', 'skip_rgb', 'cat', 'skip']) == 2
    with pytest.raises(ValueError, match='fuse_op'):
        arch_to_choices(dict(EXAMPLE_ARCH, fuse_op=[9, 6, 3, 6]))


def test_supernet_path_space_encoding():
    net = DCNASNet(num_blocks=2, num_features=4)
    space = one_shot_space(net)
    assert list(space) == list(dcnas_space(4, 2))
    path = random_choices(space)
    codes = encode_choices(space, path)
    assert [space[k][c] for k, c in zip(space, codes)] == list(path.values())
    net.set_path(arch_to_choices(EXAMPLE_ARCH))
    assert net.fusion[2].current == 'energy'
    out = net(torch.rand(2, 1, 16, 16), torch.rand(2, 3, 16, 16))
    assert out.shape == (2, 1, 16, 16)
    with pytest.raises(KeyError, match='missing'):
        apply_choices(net, {'fusion.0': 'cat'})
    with pytest.raises(RuntimeError, match='divisible'):  # pixel_unshuffle
        net(torch.rand(1, 1, 12, 12), torch.rand(1, 3, 12, 12))


def test_one_shot_choice_errors_and_dispatch():
    op = OneShotChoice('k', {'a': torch.nn.Identity(),
                             'b': torch.nn.Tanh()})
    with pytest.raises(RuntimeError, match='no current choice'):
        op(torch.zeros(1))
    with pytest.raises(ValueError, match="valid: \\['a', 'b'\\]"):
        op.choose('c')
    op.choose('b')
    assert torch.equal(op(torch.ones(1)), torch.tanh(torch.ones(1)))


def test_elastic_block_matches_explicit_convs():
    torch.manual_seed(0)
    blk = ElasticMBConv(4)
    x = torch.randn(1, 4, 9, 9)
    # k5 r3 with an identity 7->5 transform = centre crop + channel slice
    h = 12
    ref = F.prelu(F.conv2d(x, blk.expand_weight[:h]), blk.act1.weight)
    ref = F.prelu(
        F.conv2d(ref, blk.dw_weight[:h, :, 1:6, 1:6], padding=2, groups=h),
        blk.act2.weight)
    ref = x + F.conv2d(ref, blk.project_weight[:, :h])
    assert torch.allclose(blk(x, 'mb_k5_r3'), ref, atol=1e-6)
    # a non-identity 5->3 matrix acts on the flattened 3x3 centre
    with torch.no_grad():
        blk.transform_5to3.copy_(torch.randn(9, 9))
    k3 = blk.kernel(3)
    centre = blk.kernel(5)[:, :, 1:4, 1:4].reshape(-1, 9)
    assert torch.allclose(
        k3.reshape(-1, 9), centre @ blk.transform_5to3.T, atol=1e-6)
    assert torch.equal(blk(x, 'skip'), x)


def test_energy_fusion_hand_computed():
    d = torch.zeros(1, 1, 5, 5)
    g = torch.zeros(1, 1, 5, 5)
    d[0, 0, 0, 0] = 3.0  # energy 9 in the top-left 3x3 corner region
    g[0, 0, 4, 4] = 2.0  # energy 4 near the bottom-right
    out = EnergyFusion()(d, g)
    # pixel (0, 0): window covers d's 3 (9) and g's (4,4)? no (|4|>2): d
    assert out[0, 0, 0, 0] == 3.0
    # pixel (4, 4): covers g's 2 (4) but not d's corner: g wins
    assert out[0, 0, 4, 4] == 2.0
    # pixel (2, 2): covers both, 9 > 4: d's value (0) is kept
    assert out[0, 0, 2, 2] == 0.0


def test_mmaf_gradients_finite_difference():
    torch.manual_seed(0)
    op = MMAFusion(4).double()
    d = torch.randn(1, 4, 5, 5, dtype=torch.double, requires_grad=True)
    g = torch.randn(1, 4, 5, 5, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: op(a, b), (d, g))
