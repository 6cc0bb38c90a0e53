"""RUAS scene / denoise losses and the ImageEnhancer loss fields."""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmfusenas.models.enhancers import ImageEnhancer
from mmfusenas.models.losses.ruas_losses import SMOOTH_OFFSETS
from mmfusenas.models.losses import (RUASDenoiseLoss, RUASSceneLoss,
                                     official_rgb2ycbcr, official_tv,
                                     official_weighted_tv)
from mmfusenas.models.scene import (RUASDenoiseNet, RUASIlluminationNet,
                                    RUASNet)
from helpers.finite_guard import guarded_runner

OPS = ['conv_3x3'] * 7


def test_official_tv_by_hand():
    x = torch.tensor([[[[0., 1.], [3., 5.]]]])  # N=C=1, H=W=2
    # dh: (3-0)^2 + (5-1)^2 = 25 over C(H-1)W = 2; dw: 1 + 4 = 5 over 2
    assert official_tv(x).item() == pytest.approx(2 * (25 / 2 + 5 / 2))
    assert official_tv(torch.ones(2, 3, 4, 4)).item() == 0


def test_rgb2ycbcr_reshapes_like_the_official_code():
    x = torch.arange(12.).view(1, 3, 2, 2)
    mat = torch.tensor([[0.257, -0.148, 0.439], [0.564, -0.291, -0.368],
                        [0.098, 0.439, -0.071]])
    rows = x.flatten().view(-1, 3)  # consecutive values, not RGB triples
    expected = (rows @ mat + torch.tensor([16., 128., 128.]) / 255).view(
        1, 3, 2, 2)
    torch.testing.assert_close(official_rgb2ycbcr(x), expected)


def test_weighted_tv_by_hand():
    guide = torch.zeros(1, 3, 3, 3)  # constant guide: every weight is 1
    t = torch.zeros(1, 1, 3, 3)
    t[..., 0, 0] = 1.0
    # unit weights: 2 * sum over offsets of the mean |t[p] - t[p + o]|
    # over the valid pairs, enumerated explicitly
    expected = 0.0
    for dy, dx in SMOOTH_OFFSETS:
        pairs = [(i, j) for i in range(3 - dy) for j in range(3)
                 if 0 <= j + dx < 3]
        diff = sum(abs(t[0, 0, i, j] - t[0, 0, i + dy, j + dx]).item()
                   for i, j in pairs)
        expected += 2 * diff / len(pairs)
    got = official_weighted_tv(guide, t, guide_mode='rgb')
    assert got.item() == pytest.approx(expected)
    # a guide edge lowers the weight of the pairs across it
    edge = guide.clone()
    edge[..., :, 2] = 10.0
    assert official_weighted_tv(edge, t, guide_mode='rgb') < got
    with pytest.raises(ValueError, match='guide_mode'):
        official_weighted_tv(guide, t, guide_mode='lab')


def test_gradcheck():
    torch.manual_seed(0)
    g = torch.rand(1, 3, 5, 5, dtype=torch.float64)
    t = torch.rand(1, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(
        lambda t: official_weighted_tv(g, t), (t, ), fast_mode=True)
    torch.autograd.gradcheck(official_tv, (t, ), fast_mode=True)
    scene = RUASSceneLoss(guide='rgb')
    torch.autograd.gradcheck(lambda t: scene(t, g), (t, ), fast_mode=True)


def test_scene_and_denoise_loss_compose():
    torch.manual_seed(0)
    y, t = torch.rand(2, 3, 6, 6), torch.rand(2, 3, 6, 6)
    loss = RUASSceneLoss(fidelity_weight=0.5, prior_weight=2.0,
                         loss_weight=3.0)
    expected = 3 * (0.5 * ((t - y)**2).mean() +
                    2 * official_weighted_tv(y, t))
    torch.testing.assert_close(loss(t, y), expected)
    d, u = torch.rand(2, 3, 6, 6), torch.rand(2, 3, 6, 6)
    den = RUASDenoiseLoss()
    torch.testing.assert_close(
        den(d, u), 1e-7 * ((d - u)**2).mean() + official_tv(d))
    assert RUASSceneLoss.inputs == ('illumination', 'low')
    assert RUASDenoiseLoss.inputs == ('denoised', 'scene_output')
    with pytest.raises(ValueError, match='prior'):
        RUASSceneLoss(prior='tv')


class _GT(nn.Module):
    loss_name = 'loss_gt'
    inputs = ('pred', 'gt')

    def forward(self, pred, gt):
        return (pred - gt).abs().mean()


def _enhancer(**kw):
    cell = dict(type='RUASDistillationCell', ops=OPS)
    net = RUASNet(
        RUASIlluminationNet(cell, num_stages=2),
        RUASDenoiseNet(dict(cell, ops=OPS), num_cells=1, channels=6))
    return ImageEnhancer(
        net, [RUASSceneLoss(), RUASDenoiseLoss(), _GT()], **kw)


def test_enhancer_fields_optional_gt_and_configure(tmp_path):
    torch.manual_seed(0)
    model = _enhancer()
    y = torch.rand(2, 3, 8, 8)
    losses = model.loss(y, None)  # no GT: the supervised term is skipped
    assert set(losses) == {'loss_scene', 'loss_denoise'}
    out = model.network(y, return_all=True)
    torch.testing.assert_close(losses['loss_scene'],
                               RUASSceneLoss()(out.t_list[-1], y))
    torch.testing.assert_close(
        losses['loss_denoise'],
        RUASDenoiseLoss()(out.u_list[-1], out.u_list[1]))
    from mmengine.structures import BaseDataElement
    samples = [BaseDataElement(gt_img=torch.rand(3, 8, 8)) for _ in y]
    assert set(model.loss(y, samples)) == {
        'loss_scene', 'loss_denoise', 'loss_gt'
    }
    model.configure_losses(['loss_scene'], {'loss_scene': 2.0})
    (value, ) = model.loss(y, None).values()
    torch.testing.assert_close(value, 2 * losses['loss_scene'])
    # one weight per loss: a phase's replaces the config's for the losses
    # it names, the others keep the config's
    weighted = _enhancer(loss_weights=dict(loss_denoise=0.5, loss_scene=3.0))
    weighted.load_state_dict(model.state_dict())
    torch.testing.assert_close(weighted.loss(y, None)['loss_scene'],
                               3 * losses['loss_scene'])
    weighted.configure_losses(None, {'loss_scene': 2.0})
    assert weighted.loss_weights == {'loss_denoise': 0.5, 'loss_scene': 2.0}
    weighed = weighted.loss(y, None)
    torch.testing.assert_close(weighed['loss_scene'],
                               2 * losses['loss_scene'])
    torch.testing.assert_close(weighed['loss_denoise'],
                               0.5 * losses['loss_denoise'])
    weighted.configure_losses()
    assert weighted.loss_weights == {'loss_denoise': 0.5, 'loss_scene': 3.0}
    with pytest.raises(ValueError, match='unknown loss names'):
        model.configure_losses(['loss_x'])
    model.configure_losses()
    y[1, 0, 2, 3] = float('nan')  # the default guard refuses the step
    batch = dict(inputs=y, data_samples=[
        BaseDataElement(metainfo=dict(stem=s)) for s in ('a', 'b')])
    with pytest.raises(FloatingPointError,
                       match=r'FiniteStepGuardHook: .* batch samples: a, b\)'):
        guarded_runner(model, [batch], tmp_path).train()
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_enhancer_apply_phase_freezes_parts_and_selects_losses():
    """``apply_phase`` of an enhancer: parts or paths frozen, the losses and
    weights through :meth:`configure_losses`; None leaves a key as it is;
    ``task`` and the BN arguments are ignored."""
    model = _enhancer(loss_weights=dict(loss_denoise=0.5))
    scene, denoiser = model.network.scene, model.network.denoiser
    assert set(model.phase_parts()) == {'network.scene', 'network.denoiser'}
    assert model.phase_group is None
    model.apply_phase(task=False, frozen={'network.scene': True,
                                          'network.denoiser': False},
                      losses='loss_denoise', recalibrate_bn={'x'},
                      reset_bn=True)
    assert not any(p.requires_grad for p in scene.parameters())
    assert all(p.requires_grad for p in denoiser.parameters())
    assert model.active_losses == ('loss_denoise', )
    assert model.loss_weights == {'loss_denoise': 0.5}
    model.apply_phase(loss_weights=dict(loss_scene=2.0))
    assert model.active_losses == ('loss_denoise', )
    assert model.loss_weights == {'loss_denoise': 0.5, 'loss_scene': 2.0}
    model.apply_phase(losses=['loss_scene', 'loss_gt'])
    assert model.active_losses == ('loss_scene', 'loss_gt')
    assert model.loss_weights == {'loss_denoise': 0.5, 'loss_scene': 2.0}
    model.apply_phase(frozen={'network.scene': False}, losses='all',
                      loss_weights={})
    assert all(p.requires_grad for p in model.parameters())
    assert model.active_losses is None
    assert model.loss_weights == {'loss_denoise': 0.5}
    with pytest.raises(ValueError, match='unknown loss names'):
        model.apply_phase(losses=['loss_x'])


def test_enhancer_rejects_unknown_fields_and_missing_denoiser():
    bad = _GT()
    bad.inputs = ('pred', 'depth')
    with pytest.raises(ValueError, match='depth'):
        ImageEnhancer(RUASNet(
            RUASIlluminationNet(dict(type='RUASDistillationCell', ops=OPS),
                                num_stages=1)), [bad])
    model = ImageEnhancer(
        RUASNet(
            RUASIlluminationNet(dict(type='RUASDistillationCell', ops=OPS),
                                num_stages=1)), [RUASDenoiseLoss()])
    with pytest.raises(ValueError, match='denoised'):
        model.loss(torch.rand(1, 3, 8, 8), None)
    model = ImageEnhancer(
        RUASNet(
            RUASIlluminationNet(dict(type='RUASDistillationCell', ops=OPS),
                                num_stages=1)), [RUASSceneLoss()])
    model.train_step(
        dict(inputs=[torch.randint(0, 255, (3, 8, 8), dtype=torch.uint8)]),
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
