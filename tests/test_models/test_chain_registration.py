"""Registration stages of a compound model: (vi:y, ir) -> registration ->
ir_reg, (ir_reg, vi:y) -> fusion -> fused; and the ImageRegistrator."""
import warnings

import pytest
import torch
import torch.nn as nn

from mmfusenas.evaluation.metrics import RegistrationMetric, flow_errors
from mmfusenas.models import (ChainDetector, FlowEPELoss, FlowSmoothnessLoss,
                              ImageRegistrator, NGFLoss)
from mmfusenas.models.compound import RegistrationStage
from mmfusenas.models.registration import warp_image
from mmfusenas.models.utils.colorspace import luminance
from mmfusenas.structures import FusionDataSample
from helpers.finite_guard import guarded_runner

pytestmark = pytest.mark.usefixtures('one_thread')


class ConstantFlow(nn.Module):
    """A registration 'network' with a known answer: a learnable constant
    displacement (dx, dy), recording what it was called with."""

    def __init__(self, dx=0.5, dy=-1.0):
        super().__init__()
        self.shift = nn.Parameter(torch.tensor([dx, dy]))
        self.calls = []

    def forward(self, fixed, moving):
        self.calls.append((fixed.detach(), moving.detach()))
        n, _, h, w = moving.shape
        return self.shift.view(1, 2, 1, 1).expand(n, 2, h, w)


class Weighted(nn.Module):
    """A 'fusion network': ``Σ_m w_m x_m``."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.25, 0.75]).view(1, 2, 1, 1))

    def forward(self, x):
        return (self.w * x).sum(1, keepdim=True)


class FusedMean(nn.Module):
    loss_name = 'loss_f'

    def forward(self, fused, sources):
        return fused.mean()


def reg_chain(**stage_kw):
    reg = dict(name='registration', kind='registration',
               module=ConstantFlow(), inputs=['vi:y', 'ir'], output='ir_reg',
               losses=[NGFLoss(), FlowSmoothnessLoss()], loss_weight=2.0)
    reg.update(stage_kw)
    # a compound model to test the stages alone: the task model is a
    # stand-in
    return ChainDetector(
        detector=nn.Identity(),
        stages=[
            reg,
            dict(name='fusion', kind='fusion', module=Weighted(),
                 inputs=['ir_reg', 'vi:y'], output='fused',
                 losses=[FusedMean()], loss_weight=0.5),
        ],
        sources=dict(ir=1, vi=3))


def test_registration_stage_routes_warps_and_feeds_the_fusion():
    model = reg_chain()
    g = torch.Generator().manual_seed(0)
    ir, vi = torch.rand(2, 1, 8, 10, generator=g), torch.rand(
        2, 3, 8, 10, generator=g)
    assert isinstance(model.stages['registration'], RegistrationStage)
    run = model.run_pre(torch.cat([ir, vi], 1))
    images = run['images']
    reg = model.stage('registration')
    fixed, moving = reg.calls[-1]
    torch.testing.assert_close(fixed, luminance(vi))  # 'vi:y'
    torch.testing.assert_close(moving, ir)
    flow = torch.zeros(2, 2, 8, 10)
    flow[:, 0], flow[:, 1] = 0.5, -1.0
    torch.testing.assert_close(images['ir_reg'], warp_image(ir, flow))
    fused = 0.25 * images['ir_reg'] + 0.75 * luminance(vi)
    torch.testing.assert_close(images['fused'], fused)
    fields = run['stages']['registration']['fields']
    assert set(fields) == {'flow', 'fixed', 'moving', 'warped'}
    torch.testing.assert_close(fields['warped'], images['ir_reg'])


def test_registration_losses_are_named_weighted_and_reach_the_field():
    model = reg_chain()
    ir, vi = torch.rand(1, 1, 8, 8), torch.rand(1, 3, 8, 8)
    run = model.run_pre(dict(ir=ir, vi=vi))
    losses = model.weighted_losses(run)
    assert set(losses) == {'registration.loss_ngf', 'registration.loss_smooth',
                           'registration.rho', 'fusion.loss_f', 'fusion.eta'}
    fields = run['stages']['registration']['fields']
    expected = 2.0 * NGFLoss()(fields['warped'], fields['fixed'])
    torch.testing.assert_close(losses['registration.loss_ngf'], expected)
    # a constant field is free of the smoothness penalty
    assert losses['registration.loss_smooth'].item() == 0
    assert losses['registration.rho'].item() == 2.0
    # the fusion loss trains the registration network through ir_reg
    losses['fusion.loss_f'].backward()
    shift = model.stage('registration').shift
    assert shift.grad is not None and shift.grad.abs().sum() > 0


def test_frozen_registration_stage_gets_no_gradient():
    model = reg_chain(freeze=True)
    run = model.run_pre(dict(ir=torch.rand(1, 1, 8, 8),
                             vi=torch.rand(1, 3, 8, 8)))
    model.weighted_losses(run)['fusion.loss_f'].backward()
    assert model.stage('registration').shift.grad is None
    assert model.stage('fusion').w.grad is not None


def test_registration_stage_errors_are_named():
    with pytest.raises(ValueError, match='registration stage reads two'):
        reg_chain(inputs=['ir'])
    with pytest.raises(ValueError, match="stage 'registration'.*gt_flow"):
        reg_chain(losses=[FlowEPELoss()])
    with pytest.raises(KeyError, match="reads 'nir'"):
        reg_chain(inputs=['vi:y', 'nir'])


def test_registration_stage_init_from_an_image_registrator(tmp_path):
    registrator = ImageRegistrator(
        registration_net=ConstantFlow(dx=3.0, dy=4.0),
        losses=[NGFLoss()])
    path = str(tmp_path / 'reg.pth')
    torch.save(dict(state_dict=registrator.state_dict()), path)
    model = reg_chain(init=path)
    model.init_weights()
    torch.testing.assert_close(model.stage('registration').shift.data,
                               torch.tensor([3.0, 4.0]))


# ---------------------------------------------------------- registrator
def samples(n, h, w, gt=None):
    out = []
    for i in range(n):
        s = FusionDataSample(metainfo=dict(
            modalities=('ir', 'vi'), img_shape=(h, w),
            stem=f's{i}'))
        if gt is not None:
            s.gt_flow = gt[i]
        out.append(s)
    return out


def test_image_registrator_losses_predict_and_metric():
    gt = torch.zeros(2, 2, 6, 7)
    gt[:, 0], gt[:, 1] = 3.5, -1.0  # EPE to (0.5, 3.0): sqrt(9 + 16) = 5
    model = ImageRegistrator(
        registration_net=ConstantFlow(dx=0.5, dy=3.0),
        losses=[FlowEPELoss(eps=0.0), NGFLoss()])
    inputs = torch.rand(2, 2, 6, 7)
    losses = model(inputs, samples(2, 6, 7, gt), mode='loss')
    assert set(losses) == {'loss_epe', 'loss_ngf'}
    assert losses['loss_epe'].item() == pytest.approx(5.0)
    # the network read the VIS channel as fixed and the IR one as moving
    fixed, moving = model.registration_net.calls[-1]
    torch.testing.assert_close(fixed, inputs[:, 1:2])
    torch.testing.assert_close(moving, inputs[:, 0:1])
    # a padded batch (8 x 9) of 6 x 7 images: predictions are cropped back
    padded = torch.rand(2, 2, 8, 9)
    preds = model(padded, samples(2, 6, 7, gt), mode='predict')
    assert preds[0].pred_flow.shape == (2, 6, 7)
    assert preds[0].pred_warped.shape == (1, 6, 7)
    metric = RegistrationMetric()
    metric.process({}, [p.to_dict() for p in preds])
    res = metric.compute_metrics(metric.results)
    assert res['EPE'] == pytest.approx(5.0)
    assert res['EPE_none'] == pytest.approx((3.5**2 + 1)**0.5)
    assert res['ACC1'] == 0.0


def test_supervised_loss_needs_the_ground_truth_field():
    model = ImageRegistrator(
        registration_net=ConstantFlow(), losses=[FlowEPELoss()])
    with pytest.raises(ValueError, match='gt_flow.*RandomElasticAffineWarp'):
        model(torch.rand(1, 2, 4, 4), samples(1, 4, 4), mode='loss')
    with pytest.raises(KeyError, match="modality 'nir'"):
        ImageRegistrator(registration_net=ConstantFlow(),
                         losses=[NGFLoss()], moving='nir')(
                             torch.rand(1, 2, 4, 4), samples(1, 4, 4),
                             mode='loss')


def test_flow_errors_hand_case():
    pred = torch.zeros(2, 2, 2)
    gt = torch.zeros(2, 2, 2)
    gt[0, 0, 0] = 0.4  # one pixel off by 0.4, one (below) by 3
    gt[1, 1, 0] = 3.0
    errs = flow_errors(pred, gt)
    assert errs['EPE'] == pytest.approx((0.4 + 3.0) / 4)
    assert errs['ACC1'] == 0.75 and errs['ACC_half'] == 0.75
    assert errs['EPE_none'] == errs['EPE']
    with warnings.catch_warnings():  # a prediction still in a graph
        warnings.simplefilter('error')
        assert flow_errors(pred.requires_grad_(), gt) == errs


def test_non_finite_loss_stops_the_step_naming_the_samples(tmp_path):
    model = ImageRegistrator(
        registration_net=ConstantFlow(),
        losses=[NGFLoss(), FlowSmoothnessLoss()])
    inputs = torch.rand(1, 2, 6, 6)
    inputs[0, 0, 2, 3] = float('nan')  # in the moving image
    runner = guarded_runner(
        model, [dict(inputs=inputs, data_samples=samples(1, 6, 6))],
        tmp_path)
    with pytest.raises(FloatingPointError,
                       match=r'FiniteStepGuardHook: .*registration_net\.shift'
                       r'.* batch samples: s0\)'):
        runner.train()
    # the step was not taken
    assert model.registration_net.shift.tolist() == [0.5, -1.0]
