"""Fusion losses that name the output they read (TIM Sec. 4.2 branch losses).

Routing is checked exactly: every loss gets the tensor it names, and its
gradient reaches only the part of the network that produced that tensor —
in ImageFusor, in a fusion + detection model and in a compound model's
fusion stage.
"""
import copy

import pytest
import torch
import torch.nn as nn
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmfusenas.models import (ChainDetector, ImageFusor, IntensityLoss,
                              SSIMLoss, TIMTwoStageFusionNet)
from mmfusenas.models.fusion import (check_loss_outputs, fusion_loss_values,
                                     run_fusion_outputs)
from mmfusenas.models.losses.fusion_losses import _FusionLoss
from mmfusenas.registry import MODELS
from mmfusenas.structures import FusionDataSample
from helpers.task_models import retinanet


pytestmark = pytest.mark.usefixtures('one_thread')


class KnownBranches(nn.Module):
    """Named outputs with known values, one scale parameter each:
    ``stage1 = a * ir``, ``target = b * ir``, ``detail = c * vi``,
    ``final = d * (ir + vi) / 2``."""

    output_names = ('stage1', 'target', 'detail', 'final')
    main_output = 'final'

    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterDict({
            k: nn.Parameter(torch.tensor(v))
            for k, v in zip(self.output_names, (0.5, 0.6, 0.7, 0.8))
        })

    def expected(self, x):
        ir, vi = x[:, :1], x[:, 1:2]
        s = self.scales
        return dict(
            stage1=s['stage1'] * ir,
            target=s['target'] * ir,
            detail=s['detail'] * vi,
            final=s['final'] * (ir + vi) / 2)

    def forward(self, x, return_all=False):
        out = self.expected(x)
        return out if return_all else out['final']


class MeanOf(_FusionLoss):
    """``mean(image)``: the loss value identifies the image it got."""

    def __init__(self, loss_name, output='fused'):
        super().__init__(1.0, loss_name, output)
        self.seen = None

    def forward(self, fused, sources):
        self.seen = fused.detach().clone()
        return fused.mean()


def sources(n=2, h=8, w=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, h, w, generator=g)


def test_each_loss_gets_the_output_it_names():
    net = KnownBranches()
    names = ('fused', 'stage1', 'target', 'detail')
    losses = [MeanOf(f'loss_{n}', output=n) for n in names]
    model = ImageFusor(net, losses=losses)
    x = sources()
    values = model.loss(x)
    want = net.expected(x)
    want['fused'] = want['final']
    for loss, name in zip(losses, names):
        torch.testing.assert_close(loss.seen, want[name].detach())
        torch.testing.assert_close(values[f'loss_{name}'],
                                   want[name].mean())
    # gradients: each loss reaches exactly its output's scale
    for name, scale in (('fused', 'final'), ('stage1', 'stage1'),
                        ('target', 'target'), ('detail', 'detail')):
        model.zero_grad(set_to_none=True)
        model.loss(x)[f'loss_{name}'].backward()
        got = {k: p.grad for k, p in net.scales.items()}
        for key, grad in got.items():
            if key == scale:
                # d mean(s * img) / ds = mean(img / s)
                ref = (want[name] / net.scales[key]).mean().detach()
                torch.testing.assert_close(grad, ref)
            else:
                assert grad is None, (name, key)


def test_main_output_only_runs_without_return_all():
    calls = []

    class Spy(KnownBranches):

        def forward(self, x, return_all=False):
            calls.append(return_all)
            return super().forward(x, return_all)

    model = ImageFusor(Spy(), losses=[MeanOf('loss_a')])
    model.loss(sources())
    assert calls == [False]
    model = ImageFusor(Spy(), losses=[MeanOf('loss_a', output='detail')])
    model.loss(sources())
    assert calls == [False, True]


def test_unknown_output_is_a_clear_error():
    with pytest.raises(ValueError, match=r"loss_b.*'target'.*SimpleFusion"):
        ImageFusor(
            dict(
                type='SimpleFusionNet',
                in_channels=2,
                base_channels=4,
                num_dense=1,
                decoder_channels=(4, )),
            losses=[MeanOf('loss_a'),
                    MeanOf('loss_b', output='target')])
    with pytest.raises(ValueError, match='nowhere'):
        check_loss_outputs(KnownBranches(), [MeanOf('x', output='nowhere')],
                           'test')
    with pytest.raises(ValueError, match='output must be'):
        IntensityLoss(output='')


def two_stage(branch_names=('detail', 'target'), channels=4):
    return TIMTwoStageFusionNet(
        stage1=dict(
            type='TIMFusionNet',
            channels=channels,
            in_channels=2,
            cells=[dict(type='SuccessiveCell', ops=['DilConv_3_2'] * 2)]),
        stage2=dict(
            type='TIMEnhanceNet',
            channels=channels,
            merge='mask',
            input_order=(1, 0),
            first_cells=[
                dict(type='SuccessiveCell', ops=['SPAattention_3'] * 2)
            ],
            second_cells=[
                dict(type='SuccessiveCell', ops=['DilConv_3_2'] * 2)
            ]),
        branch_names=branch_names)


def reached(module):
    """Names of the parameters with a non-zero gradient."""
    return {
        n
        for n, p in module.named_parameters()
        if p.grad is not None and p.grad.abs().sum() > 0
    }


def prefixes(names):
    return {'.'.join(n.split('.')[:2]) for n in names}


def test_two_stage_branch_losses_reach_only_their_branch():
    torch.manual_seed(0)
    net = two_stage()
    assert net.output_names == ('stage1', 'detail', 'target', 'final')
    x = sources(h=8, w=8)
    net.eval()
    with torch.no_grad():
        out = net(x, return_all=True)
        torch.testing.assert_close(out['final'], net(x))
    # ℓ_int on the target branch (IR: second branch of stage 2, input_order
    # (1, 0)), ℓ_ssim on the detail branch (VIS)
    int_loss = IntensityLoss(output='target', source_weights=(1.0, 0.0))
    ssim_loss = SSIMLoss(output='detail', source_weights=(0.0, 1.0),
                         window_size=3, sigma=1.0)
    model = ImageFusor(net, losses=[int_loss, ssim_loss])
    model.eval()
    values = model.loss(x)
    torch.testing.assert_close(values['loss_int'],
                               ((out['target'] - x[:, :1])**2).mean())
    torch.testing.assert_close(values['loss_ssim'],
                               ssim_loss(out['detail'], x))

    stage2_parts = {
        'stage2.first_stem', 'stage2.first_cells', 'stage2.first_head',
        'stage2.second_stem', 'stage2.second_cells', 'stage2.second_head',
        'stage2.mask', 'stage2.final_head'
    }
    model.zero_grad(set_to_none=True)
    model.loss(x)['loss_int'].backward()
    got = prefixes(reached(net))
    assert {n for n in got if n.startswith('stage2.')} == {
        'stage2.second_stem', 'stage2.second_cells', 'stage2.second_head'
    }
    assert 'stage1.stem' in got  # the stage-1 image feeds both branches

    model.zero_grad(set_to_none=True)
    model.loss(x)['loss_ssim'].backward()
    got = prefixes(reached(net)) & stage2_parts
    assert got == {
        'stage2.first_stem', 'stage2.first_cells', 'stage2.first_head'
    }

    # a loss on the stage-1 image never reaches stage 2
    stage1_only = ImageFusor(net, losses=[IntensityLoss(output='stage1')])
    stage1_only.zero_grad(set_to_none=True)
    stage1_only.loss(x)['loss_int'].backward()
    assert prefixes(reached(net)) & stage2_parts == set()
    # the final image reaches the merge, not the branch heads
    final_only = ImageFusor(net, losses=[IntensityLoss()])
    final_only.zero_grad(set_to_none=True)
    final_only.loss(x)['loss_int'].backward()
    got = prefixes(reached(net)) & stage2_parts
    assert 'stage2.final_head' in got and 'stage2.mask' in got
    assert not {'stage2.first_head', 'stage2.second_head'} & got


def test_branch_names_are_checked():
    with pytest.raises(ValueError, match='branch_names'):
        two_stage(branch_names=('final', 'target'))
    with pytest.raises(ValueError, match='branch_names'):
        two_stage(branch_names=('a', 'a'))
    net = two_stage(branch_names=None)
    assert net.output_names == ('stage1', 'first', 'second', 'final')


def det_batch(size=64):
    g = torch.Generator().manual_seed(0)
    s = DetDataSample(
        metainfo=dict(
            stem='s0',
            img_shape=(size, size),
            ori_shape=(size, size),
            scale_factor=(1.0, 1.0),
            modalities=('ir', 'vi'),
            color_modality='vi'))
    s.gt_instances = InstanceData(
        bboxes=torch.tensor([[4., 6., 30., 40.]]), labels=torch.tensor([1]))
    s.ignored_instances = InstanceData(
        bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
    return dict(
        inputs=dict(
            ir=[torch.randint(0, 256, (1, size, size), generator=g,
                              dtype=torch.uint8)],
            vi=[torch.randint(0, 256, (3, size, size), generator=g,
                              dtype=torch.uint8)]),
        data_samples=[s])


def test_fusion_detector_routes_branch_losses():
    torch.manual_seed(0)
    net = KnownBranches()
    losses = [MeanOf('loss_t', output='target'), MeanOf('loss_f')]
    model = MODELS.build(
        dict(
            type='FusionDetector',
            fusion_net=net,
            detector=retinanet('r18'),
            fusion_losses=losses,
            fusion_loss_weight=0.5))
    model.train()
    data = model.data_preprocessor(copy.deepcopy(det_batch()), True)
    values = model(**data, mode='loss')
    want = net.expected(data['inputs'])
    torch.testing.assert_close(values['fusion.loss_t'],
                               0.5 * want['target'].mean())
    torch.testing.assert_close(values['fusion.loss_f'],
                               0.5 * want['final'].mean())
    torch.testing.assert_close(losses[0].seen, want['target'].detach())
    # the detector sees the main output, not a branch
    fused = model.run_pre(data['inputs'])['images']['fused']
    torch.testing.assert_close(fused, want['final'])
    # ℓ_T reaches only the main output's scale; the branch loss only its own
    model.zero_grad(set_to_none=True)
    values['fusion.loss_t'].backward()
    assert {k for k, p in net.scales.items() if p.grad is not None} == {
        'target'
    }


def test_chain_fusion_stage_routes_branch_losses():
    net = KnownBranches()
    loss = MeanOf('loss_d', output='detail')
    # the stage alone: a compound model whose task model is a stand-in
    chain = ChainDetector(
        detector=nn.Identity(),
        stages=[
            dict(
                name='fusion',
                kind='fusion',
                module=net,
                inputs=['ir', 'vi:y'],
                output='fused',
                losses=[loss],
                loss_weight=2.0)
        ],
        sources=dict(ir=1, vi=3))
    ir = torch.rand(1, 1, 8, 8)
    vi = torch.rand(1, 3, 8, 8)
    run = chain.run_pre(dict(ir=ir, vi=vi))
    x = run['stages']['fusion']['inputs']
    want = net.expected(x)
    torch.testing.assert_close(run['images']['fused'], want['final'])
    values = chain.weighted_losses(run)
    torch.testing.assert_close(values['fusion.loss_d'],
                               2 * want['detail'].mean())


def test_run_fusion_outputs_and_loss_values_helpers():
    net = KnownBranches()
    x = sources()
    out = run_fusion_outputs(net, x, True, 'test')
    assert set(out) == {'fused', 'stage1', 'target', 'detail', 'final'}
    assert out['fused'] is out['final']
    assert set(run_fusion_outputs(net, x, False, 'test')) == {'fused'}
    vals = fusion_loss_values([MeanOf('a', 'stage1'), MeanOf('b')], out, x)
    torch.testing.assert_close(vals['a'], out['stage1'].mean())
    torch.testing.assert_close(vals['b'], out['final'].mean())

    class Bad(KnownBranches):

        def forward(self, x, return_all=False):
            return x[:, :1]

    with pytest.raises(ValueError, match='must return a dict'):
        run_fusion_outputs(Bad(), x, True, 'test')
    with pytest.raises(ValueError, match=r'\(N, 1, H, W\)'):
        run_fusion_outputs(nn.Identity(), x, False, 'test')


def test_image_fusor_predict_uses_main_output():
    net = KnownBranches()
    model = ImageFusor(net, losses=[MeanOf('loss_a', output='target')])
    x = sources(n=1)
    sample = FusionDataSample(metainfo=dict(img_shape=(8, 8)))
    (out, ) = model(x, [sample], mode='predict')
    torch.testing.assert_close(out.pred_fused,
                               net.expected(x)['final'][0].clamp(0, 1))


def test_real_config_losses_with_a_stand_in_vgg(tmp_path):
    """The loss list of train_two_stage_ivif_tno.py (l_F with VGG16 feature
    weights on the stage-1 image, the branch losses, l_T) on a tiny
    two-stage net, with a small stand-in VGG16 state dict in place of
    torchvision's vgg16-397923af.pth."""
    import os.path as osp

    from mmengine.config import Config

    from mmfusenas.models.losses import VGG16Features
    from mmfusenas.models.losses.vgg16_features import VGG16_PLAN
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(
        osp.join(repo, 'configs', 'tim', 'train_two_stage_ivif_tno.py'))
    torch.manual_seed(0)
    state, in_ch, i = {}, 3, 0
    for item in VGG16_PLAN:  # random weights in torchvision's key layout
        if item == 'M':
            i += 1
            continue
        state[f'features.{i}.weight'] = torch.randn(item, in_ch, 3, 3) * 0.05
        state[f'features.{i}.bias'] = torch.zeros(item)
        in_ch, i = item, i + 2
    path = str(tmp_path / 'vgg16-397923af.pth')
    torch.save(state, path)
    losses = [dict(loss) for loss in cfg.model.losses]
    assert losses[0]['output'] == 'stage1'
    # the paper's VGG16 measure (the configs default to the weight-free one)
    losses[0].update(measure='vgg', feature_weights=path)
    net = two_stage()
    model = ImageFusor(net, losses=losses)
    model.eval()
    x = sources(n=2, h=32, w=32)
    values = model.loss(x)
    assert set(values) == {
        'loss_info', 'loss_int_target', 'loss_ssim_detail', 'loss_sal'
    }
    with torch.no_grad():
        out = net(x, return_all=True)
    ref = MODELS.build(losses[0])
    torch.testing.assert_close(values['loss_info'], ref(out['stage1'], x))
    assert isinstance(model.losses[0].extractor, VGG16Features)
    # the VGG weights never enter the model's state dict
    assert not any('features' in k for k in model.state_dict())
