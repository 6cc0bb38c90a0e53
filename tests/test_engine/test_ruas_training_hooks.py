"""RUASTrainingStrategyHook: which parameters train in which phase."""
import logging
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmfusenas.engine.hooks import RUASTrainingStrategyHook
from mmfusenas.models.enhancers import ImageEnhancer
from mmfusenas.models.losses import RUASDenoiseLoss, RUASSceneLoss
from mmfusenas.models.scene import (RUASDenoiseNet, RUASIlluminationNet,
                                    RUASNet)

OPS = ['conv_3x3'] * 7


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model():
    torch.manual_seed(0)
    cell = dict(type='RUASDistillationCell', ops=OPS)
    net = RUASNet(
        RUASIlluminationNet(cell, num_stages=1),
        RUASDenoiseNet(cell, num_cells=1, channels=6))
    return ImageEnhancer(net, [RUASSceneLoss(), RUASDenoiseLoss()])


def _run(hook, model, iters):
    """Drive the hook like a runner and report which modules changed."""
    runner = SimpleNamespace(
        model=model, iter=0, logger=logging.getLogger('test'))
    ow = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9,
                        weight_decay=1e-2))
    g = torch.Generator().manual_seed(0)
    batch = dict(inputs=[
        torch.randint(0, 80, (3, 8, 8), dtype=torch.uint8, generator=g)
    ])
    hook.before_train(runner)
    changed, logs = [], []
    for it in range(iters):
        runner.iter = it
        hook.before_train_iter(runner, it)
        before = [[p.detach().clone() for p in m.parameters()]
                  for m in (model.network.scene, model.network.denoiser)]
        logs.append(set(model.train_step(batch, ow)))
        changed.append(
            tuple(
                any(not torch.equal(a, p) for a, p in zip(b, m.parameters()))
                for b, m in zip(before, (model.network.scene,
                                         model.network.denoiser))))
    hook.after_train(runner)
    return changed, logs


def test_hierarchical_pretrains_scene_then_freezes_it():
    model = _model()
    hook = RUASTrainingStrategyHook('hierarchical', scene_iters=2)
    changed, logs = _run(hook, model, 4)
    assert changed == [(True, False)] * 2 + [(False, True)] * 2
    assert logs[0] == {'loss', 'loss_scene'}
    assert logs[3] == {'loss', 'loss_denoise'}
    # restored after training
    assert model.active_losses is None
    assert all(p.requires_grad for p in model.parameters())


def test_hierarchical_fine_tune_everything():
    hook = RUASTrainingStrategyHook(
        'hierarchical', scene_iters=1, freeze_scene=False)
    changed, _ = _run(hook, _model(), 2)
    assert changed == [(True, False), (True, True)]


def test_end_to_end_weights_the_scene_loss():
    model = _model()
    hook = RUASTrainingStrategyHook('end_to_end', scene_weight=0.25)
    changed, logs = _run(hook, model, 1)
    assert changed == [(True, True)]
    assert logs[0] == {'loss', 'loss_scene', 'loss_denoise'}
    hook.before_train(SimpleNamespace(model=model))
    y = torch.rand(1, 3, 8, 8)
    scaled = model.loss(y, None)['loss_scene']
    model.configure_losses()
    torch.testing.assert_close(scaled, 0.25 * model.loss(y, None)['loss_scene'])


def test_bad_options():
    with pytest.raises(ValueError, match='strategy'):
        RUASTrainingStrategyHook('joint')
    with pytest.raises(ValueError, match='>= 0'):
        RUASTrainingStrategyHook(scene_weight=-1)
    with pytest.raises(TypeError, match='ImageEnhancer'):
        RUASTrainingStrategyHook().before_train(
            SimpleNamespace(model=torch.nn.Linear(1, 1)))
