"""RUAS operators, distillation cell, scene / denoise / estimation networks,
variants, search spaces and the ImageEnhancer wrapper."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.structures import BaseDataElement

from mmfusenas.models.cells import RUASDistillationCell
from mmfusenas.models.data_preprocessors import EnhanceDataPreprocessor
from mmfusenas.models.enhancers import ImageEnhancer, to_uint8
from mmfusenas.models.mutables import (ArchParams, bind_arch_params,
                                       fix_space_cfg)
from mmfusenas.models.ops import (RUAS_OP_NAMES, RUAS_PAPER_OP_NAMES,
                                  RUAS_SEARCH_OPS, build_named_op, ruas_op_cfg)
from mmfusenas.models.scene import (RUASDenoiseNet, RUASIlluminationNet,
                                    RUASIlluminationStage, RUASNet,
                                    RUASNoiseEstimator, local_max)
from mmfusenas.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_CFGS = osp.join(REPO, 'configs', '_base_', 'models')
GENOTYPES = Config.fromfile(osp.join(MODEL_CFGS, 'ruas_genotypes.py'))


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def network(variant):
    cfg = Config.fromfile(osp.join(MODEL_CFGS, f'{variant}.py'))
    torch.manual_seed(0)
    return MODELS.build(cfg.model).network


# ---------------------------------------------------------------- operators
# the official operators (github.com/vis-opt-group/RUAS
# model_enhance/operations.py): C^2 k^2 + C for every conv form, 0 otherwise
@pytest.mark.parametrize('name', RUAS_OP_NAMES)
def test_op_parameter_counts(name):
    op = build_named_op(name, 6)
    if name in ('skip_connect', 'avg_pool_3x3', 'max_pool_3x3'):
        assert num_params(op) == 0
    else:
        k = int(name[-1])
        assert num_params(op) == 36 * k * k + 6
    assert op(torch.rand(2, 6, 9, 11)).shape == (2, 6, 9, 11)


def test_op_semantics():
    x = torch.randn(1, 3, 8, 9)
    plain = build_named_op('dilconv_3x3', 3)
    res = build_named_op('resdilconv_3x3', 3)
    relu = build_named_op('reluconv_3x3', 3)
    res.load_state_dict(plain.state_dict())
    conv = F.conv2d(
        x, plain.conv.weight, plain.conv.bias, padding=2, dilation=2)
    torch.testing.assert_close(plain(x), conv)
    torch.testing.assert_close(res(x), x + conv)
    relu_conv = F.conv2d(x, relu.conv.weight, relu.conv.bias, padding=1)
    torch.testing.assert_close(relu(x), relu_conv.clamp(min=0))
    avg = build_named_op('avg_pool_3x3', 3)(x)
    # count_include_pad=False: the corner averages its 4 in-image samples
    torch.testing.assert_close(avg[0, :, 0, 0], x[0, :, :2, :2].mean((1, 2)))


def test_search_ops_and_paper_aliases():
    assert RUAS_SEARCH_OPS == ('skip_connect', 'conv_1x1', 'conv_3x3',
                               'dilconv_3x3', 'resconv_1x1', 'resconv_3x3',
                               'resdilconv_3x3')
    for paper, official in RUAS_PAPER_OP_NAMES.items():
        assert MODELS.build(
            dict(type='DiffMixedOp', key='k', candidates=[paper]),
            default_args=dict(channels=3)).choice_specs == [paper]
        assert type(build_named_op(paper,
                                   3)) is type(build_named_op(official, 3))
    with pytest.raises(ValueError, match='unknown RUAS op'):
        ruas_op_cfg('conv_3')


# ---------------------------------------------------------------------- cell
def scaled_identity_cell(channels=2):
    """A cell whose edge i multiplies by (i + 2) and whose fuse is a known
    1x1 conv: reveals which node feeds which edge."""
    cell = RUASDistillationCell(channels, ops=['conv_1x1'] * 7)
    eye = torch.eye(channels)[:, :, None, None]
    with torch.no_grad():
        for i, edge in enumerate(cell.edges):
            edge.conv.weight.copy_(eye * (i + 2))
            edge.conv.bias.zero_()
    return cell


def test_cell_topology_hand_computed():
    cell = scaled_identity_cell()
    x = torch.randn(1, 2, 5, 6)

    def act(v):
        return F.leaky_relu(v, 0.05)

    d1, r1 = act(2 * x), act(3 * x + x)
    d2, r2 = act(4 * r1), act(5 * r1 + r1)
    d3, r3 = act(6 * r2), act(7 * r2 + r2)
    r4 = act(8 * r3)
    expected = F.conv2d(
        torch.cat([d1, d2, d3, r4], 1), cell.fuse.weight, cell.fuse.bias)
    torch.testing.assert_close(cell(x), expected)
    assert cell.fuse.weight.shape == (2, 8, 1, 1)


def test_cell_extra_identity_on_refinement_edges():
    # resconv on edge 1 gives act(x + conv(x) + x); skip on edge 5 act(2 r2)
    cell = RUASDistillationCell(3, ops=GENOTYPES.ruas_iem_genotype)
    x = torch.randn(1, 3, 6, 6)
    e = cell.edges

    def act(v):
        return F.leaky_relu(v, 0.05)

    r1 = act(x + e[1].conv(x) + x)
    r2 = act(e[3](r1) + r1)
    r3 = act(2 * r2)
    parts = [act(x), act(e[2](r1)), act(e[4](r2)), act(e[6](r3))]
    torch.testing.assert_close(cell(x), cell.fuse(torch.cat(parts, 1)))


def test_cell_parameter_counts_and_errors():
    # reference: IEM cell 387 at C=3, TPAMI NRM 1,884 / CVPR NRM 648 at C=6
    assert num_params(
        RUASDistillationCell(3, ops=GENOTYPES.ruas_iem_genotype)) == 387
    assert num_params(
        RUASDistillationCell(6, ops=GENOTYPES.ruas_nrm_genotype)) == 1884
    assert num_params(
        RUASDistillationCell(6, ops=GENOTYPES.ruas_nrm_genotype_cvpr)) == 648
    with pytest.raises(ValueError, match='7 edges'):
        RUASDistillationCell(3, ops=['conv_1x1'] * 6)
    with pytest.raises(ValueError, match='exactly one'):
        RUASDistillationCell(3)


# --------------------------------------------------------- scene semantics
def test_local_max_hand_computed():
    x = torch.tensor([[1., 5., 2.], [3., 0., 4.]]).view(1, 1, 2, 3)
    # window: the pixel, right, below, below-right; outside = 0
    expected = torch.tensor([[5., 5., 4.], [3., 4., 4.]]).view(1, 1, 2, 3)
    torch.testing.assert_close(local_max(x), expected)
    neg = -torch.ones(1, 1, 2, 2)
    # zero padding enters the maximum (official): borders become 0
    torch.testing.assert_close(
        local_max(neg),
        torch.tensor([[-1., 0.], [0., 0.]]).view(1, 1, 2, 2))


def test_local_max_gradient_splits_ties_like_the_official_code():
    """Element-wise maxima (official ``torch.max(x1, x2)``) split the
    gradient of a tie evenly; hand-computed on a 1 x 2 zero image, then
    equal to the official ``max_operation`` on an image full of ties."""
    tie = torch.zeros(1, 1, 1, 2, requires_grad=True)
    # rows r = [max(a, 0), max(b, 0), 0] (ties: 1/2 each); out = [max(r0,
    # r1), max(r1, r2)] (ties): dr = [1/2, 1, 1/2] -> da = 1/4, db = 1/2
    local_max(tie).sum().backward()
    torch.testing.assert_close(tie.grad, torch.tensor([[[[0.25, 0.5]]]]))
    from helpers import ruas_official_reference as official
    gen = torch.Generator().manual_seed(0)
    x = (torch.randint(0, 3, (2, 3, 9, 11), generator=gen) / 2.)
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    weight = torch.rand(2, 3, 9, 11, generator=gen)
    (local_max(ours) * weight).sum().backward()
    (official.max_operation(theirs) * weight).sum().backward()
    torch.testing.assert_close(local_max(x), official.max_operation(x))
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=0, atol=1e-6)


class Shift(nn.Module):
    """Stand-in cell: adds a constant."""

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return x + self.value


def stage_with(cell, **kwargs):
    stage = RUASIlluminationStage(
        dict(type='RUASDistillationCell', ops=['skip_connect'] * 7), **kwargs)
    stage.cell = cell
    return stage


def test_stage_init_rectification_and_clamps():
    y = torch.rand(1, 3, 4, 5) * 0.5
    u_prev = torch.rand(1, 3, 4, 5)
    stage = stage_with(Shift(0.0))
    # first stage: t = sigmoid(M(y)), u = clamp(y / t, 0, 1)
    u, t = stage(y)
    t_ref = torch.sigmoid(local_max(y))
    torch.testing.assert_close(t, t_ref)
    torch.testing.assert_close(u, (y / t_ref).clamp(0, 1))
    # later stage: t_hat = M(u_prev) - 0.5 (u_prev - y)
    u, t = stage(y, u_prev)
    t_ref = torch.sigmoid(local_max(u_prev) - 0.5 * (u_prev - y))
    torch.testing.assert_close(t, t_ref)
    # the detection network's update: t_hat = u_prev
    _, t = stage_with(Shift(0.0), update='previous')(y, u_prev)
    torch.testing.assert_close(t, torch.sigmoid(u_prev))


def test_stage_clamp_bounds():
    y = torch.full((1, 3, 2, 2), 0.25)
    y[..., 0, 0] = 0.00002
    # cell output -> sigmoid ~ 0: t clamps at t_min, u = y / t_min clamped
    u, t = stage_with(Shift(-100.0))(y)
    assert torch.all(t == 1e-4)
    assert torch.allclose(u[..., 0, 0], torch.full((1, 3), 0.2))
    assert torch.all(u[..., 1, 1] == 1.0)
    _, t = stage_with(Shift(-100.0), t_min=1e-3)(y)  # CVPR bound
    assert torch.all(t == 1e-3)
    # cell output -> sigmoid = 1: u = y
    u, t = stage_with(Shift(100.0))(y)
    assert torch.all(t == 1.0) and torch.equal(u, y)
    with pytest.raises(ValueError, match='update'):
        stage_with(Shift(0.0), update='max')


def test_illumination_net_lists_and_input_check():
    net = network('ruas_s').scene
    assert isinstance(net, RUASIlluminationNet) and len(net.stages) == 3
    with torch.no_grad():
        u_list, t_list = net(torch.rand(2, 3, 10, 12))
    assert len(u_list) == len(t_list) == 3
    assert all(0 <= float(u.min()) and float(u.max()) <= 1 for u in u_list)
    assert all(float(t.min()) >= 1e-4 for t in t_list)
    with pytest.raises(RuntimeError):  # the first conv
        net(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match='list of 3 cell configs'):
        RUASIlluminationNet(cell=[dict(type='RUASDistillationCell')] * 2)


# ------------------------------------------------------ denoise, estimator
def test_denoiser_subtracts_noise_without_clamp():
    den = RUASDenoiseNet(
        cell=dict(type='RUASDistillationCell', ops=['skip_connect'] * 7))
    u = torch.rand(1, 3, 6, 7)
    out, noise = den(u)
    torch.testing.assert_close(out, u - noise)
    assert [k for k in den.state_dict()
            if k.startswith('head')] == ['head.weight', 'head.bias']


def test_estimator_level_formula():
    est = RUASNoiseEstimator()
    assert num_params(est) == 29507
    x = torch.rand(2, 3, 5, 6)
    e = est.layers(x)
    # batch level: sum |e| / (C H W), the batch size is not divided out
    torch.testing.assert_close(est(x), e.abs().sum() / (3 * 5 * 6))
    torch.testing.assert_close(
        est(x, per_sample=True),
        e.abs().mean((1, 2, 3)))
    assert [type(m).__name__ for m in est.layers] == ['Conv2d', 'ReLU'] * 4 \
        + ['Conv2d']


class FixedLevel(nn.Module):
    """Stand-in estimator returning given levels."""

    def __init__(self, levels):
        super().__init__()
        self.levels = torch.tensor(levels)

    def forward(self, x, per_sample=False):
        return self.levels if per_sample else self.levels.sum()


class MinusOne(nn.Module):
    """Stand-in denoiser: removes a constant 'noise' of 1."""

    def forward(self, u):
        return u - 1, torch.ones_like(u)


@pytest.mark.parametrize('level,denoised', [(0.0349, False), (0.035, True),
                                            (0.2, True)])
def test_gate_threshold(level, denoised):
    net = RUASNet(network('ruas_s').scene, MinusOne(), FixedLevel([level]))
    y = torch.rand(1, 3, 6, 6)
    out = net(y, return_all=True)
    assert len(out.u_list) == (4 if denoised else 3)
    expected = out.u_list[2] - 1 if denoised else out.u_list[2]
    torch.testing.assert_close(out.pred, expected)
    assert float(out.noise_level) == pytest.approx(level)


def test_gate_batch_vs_sample():
    y = torch.rand(2, 3, 6, 6)
    # official batch gate: one decision from the summed level (0.02 + 0.02)
    batch = RUASNet(
        network('ruas_s').scene, MinusOne(), FixedLevel([0.02, 0.02]))
    out = batch(y, return_all=True)
    assert len(out.u_list) == 4
    per_sample = RUASNet(
        batch.scene, MinusOne(), FixedLevel([0.02, 0.05]), gate='sample')
    out = per_sample(y, return_all=True)
    u3 = out.u_list[2]
    torch.testing.assert_close(out.pred[0], u3[0])
    torch.testing.assert_close(out.pred[1], u3[1] - 1)
    with pytest.raises(ValueError, match='needs one'):
        RUASNet(batch.scene, estimator=FixedLevel([0.0]))


# ------------------------------------------------ variants, parameter counts
def test_variant_parameter_counts_match_reference():
    s, ruas, full = network('ruas_s'), network('ruas'), network('ruas_a')
    assert num_params(s) == 1161
    assert (num_params(ruas.scene), num_params(ruas.denoiser)) == (1161, 2277)
    assert num_params(ruas) == 3438
    assert (num_params(full.scene), num_params(full.denoiser),
            num_params(full.estimator)) == (1161, 5985, 29507)
    assert num_params(full) == 36653
    assert len(full.state_dict()) == 98 and not list(full.buffers())
    assert full.scene.stages[0].t_min == 1e-4
    assert ruas.scene.stages[0].t_min == 1e-3
    # RUAS (no estimator) always denoises
    assert len(ruas(torch.rand(1, 3, 8, 8), return_all=True).u_list) == 4


def search_spaces():
    return Config.fromfile(osp.join(MODEL_CFGS, 'ruas_search_space.py'))


def test_supernet_shares_alpha_across_stages():
    spaces = search_spaces()
    supernet = MODELS.build(spaces.ruas_supernet)
    # reference 9.3: 37,944 weights (scene 7,677, denoiser 30,267)
    assert num_params(supernet.scene) == 7677
    assert num_params(supernet.denoiser) == 30267
    arch = ArchParams()
    keys = bind_arch_params(supernet, arch)
    assert keys == [f'scene/edge{e}' for e in range(7)
                    ] + [f'denoise/edge{e}' for e in range(7)]
    assert all(arch.choices(k) == RUAS_SEARCH_OPS for k in keys)
    y = supernet(torch.rand(1, 3, 8, 8))
    y.mean().backward()
    assert all(p.grad is not None for p in arch.parameters())
    per_stage = MODELS.build(spaces.ruas_scene_space_per_stage)
    assert len(bind_arch_params(per_stage, ArchParams())) == 21


def test_official_genotype_derives_from_the_space():
    spaces = search_spaces()
    choices = {
        f'scene/edge{e}': op
        for e, op in enumerate(GENOTYPES.ruas_iem_genotype)
    }
    choices.update({
        f'denoise/edge{e}': op
        for e, op in enumerate(GENOTYPES.ruas_nrm_genotype)
    })
    fixed = fix_space_cfg(spaces.ruas_supernet, choices)
    full = network('ruas_a')
    assert fixed['scene'] == full_cfg_of('ruas_a')['scene']
    net = MODELS.build(fixed)
    assert num_params(net.scene) == 1161 and num_params(net.denoiser) == 5985
    assert set(net.state_dict()) == {
        k
        for k in full.state_dict() if not k.startswith('estimator')
    }


def full_cfg_of(variant):
    cfg = Config.fromfile(osp.join(MODEL_CFGS, f'{variant}.py'))
    return cfg.model.network.to_dict()


# --------------------------------------------------- enhancer and batching
def packed(h, w, gt=True, stem='a'):
    sample = BaseDataElement(metainfo=dict(stem=stem, img_shape=(h, w)))
    if gt:
        sample.gt_img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    return torch.randint(0, 256, (3, h, w), dtype=torch.uint8), sample


def packed_gt(sample):
    return sample.metainfo['gt_uint8']


def test_data_preprocessor_scales_pads_and_checks():
    pre = EnhanceDataPreprocessor(pad_size_divisor=4)
    (a, sa), (b, sb) = packed(5, 7), packed(6, 3, gt=False, stem='b')
    sa.set_metainfo(dict(gt_uint8=sa.gt_img.clone()))
    out = pre(dict(inputs=[a, b], data_samples=[sa, sb]))
    assert out['inputs'].shape == (2, 3, 8, 8)
    torch.testing.assert_close(out['inputs'][0, :, :5, :7], a.float() / 255)
    assert float(out['inputs'][1, :, 6:].abs().sum()) == 0
    sa, sb = out['data_samples']
    torch.testing.assert_close(sa.gt_img, packed_gt(sa).float() / 255)
    assert 'gt_img' not in sb and sb.pad_shape == (8, 8)
    bad, sbad = packed(4, 4)
    with pytest.raises(ValueError, match="sample 'a'.*RGB"):
        pre(dict(inputs=[bad[:1]], data_samples=[sbad]))


def test_image_enhancer_predict_and_loss():
    cfg = Config.fromfile(osp.join(MODEL_CFGS, 'ruas_s.py')).model
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    assert isinstance(model, ImageEnhancer)
    data = [packed(6, 9, stem='a'), packed(8, 5, stem='b')]
    batch = dict(
        inputs=[d[0] for d in data], data_samples=[d[1] for d in data])
    with torch.no_grad():
        samples = model.test_step(batch)
    for sample, (h, w) in zip(samples, [(6, 9), (8, 5)]):
        assert sample.pred_img.shape == sample.gt_img.shape == (3, h, w)
        assert 0 <= float(sample.pred_img.min())
        assert float(sample.pred_img.max()) <= 1
    model.pred_quantize = 'floor'
    one = dict(inputs=[data[0][0]], data_samples=[packed(6, 9)[1]])
    with torch.no_grad():
        (sample, ) = model.test_step(one)
    levels = sample.pred_img * 255
    torch.testing.assert_close(levels, levels.round())

    class L1(nn.Module):
        loss_name = 'loss_l1'

        def forward(self, pred, target):
            return (pred - target).abs().mean()

    model.losses = nn.ModuleList([L1()])
    before = model.network.scene.stages[0].cell.fuse.weight.clone()
    losses = model.train_step(
        batch, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert set(losses) == {'loss', 'loss_l1'}
    assert not torch.equal(before,
                           model.network.scene.stages[0].cell.fuse.weight)
    with pytest.raises(ValueError, match='pred_quantize'):
        ImageEnhancer(cfg.network, pred_quantize='ceil')


def test_to_uint8_truncates_like_the_official_saving():
    x = torch.tensor([0.0, 0.5, 0.99999, 1.2, -0.1, 254.6 / 255])
    assert to_uint8(x).tolist() == [0, 127, 254, 255, 0, 254]
    assert to_uint8(x, 'round').tolist() == [0, 128, 255, 255, 0, 255]


def test_inference_in_place_paths_never_write_into_inputs():
    """Without autograd the cell and the stage run their activations in
    place; identity edges / cells must not overwrite their inputs, and the
    values equal the autograd path."""
    cell = RUASDistillationCell(3, ops=['skip_connect'] * 7).eval()
    x = torch.randn(1, 3, 5, 6)
    keep = x.clone()
    ref = cell(x)
    with torch.no_grad():
        out = cell(x)
    assert torch.equal(x, keep) and torch.equal(out, ref)
    stage = RUASIlluminationStage(
        dict(type='SkipConnect'), update='previous').eval()
    y, u_prev = torch.rand(1, 3, 5, 6), torch.rand(1, 3, 5, 6)
    keep = u_prev.clone()
    ref = stage(y, u_prev)
    with torch.no_grad():
        out = stage(y, u_prev)
    assert torch.equal(u_prev, keep)
    assert all(torch.equal(a, b) for a, b in zip(out, ref))
