"""Staged task-guided training hooks: warm-up, freezing, eta schedule."""
from types import SimpleNamespace

import pytest
import torch.nn as nn

from mmfusenas.engine.hooks import (FreezeFusionHook, FusionWarmupHook,
                                    StagingHook)
from mmfusenas.registry import HOOKS, MODELS
from mmfusenas.search import BilevelSearchAlgorithm


pytestmark = pytest.mark.usefixtures('one_thread')


def compound_cfg(neck=None):
    """A tiny FusionDetector config (RetinaNet, ResNet-18 at 1/8 width)."""
    return dict(
        type='FusionDetector',
        fusion_net=dict(
            type='SimpleFusionNet',
            in_channels=2,
            base_channels=4,
            num_dense=1,
            decoder_channels=(4, )),
        fusion_losses=[dict(type='MaxIntensityLoss')],
        detector=dict(
            type='RetinaNet',
            backbone=dict(
                type='ResNet',
                depth=18,
                base_channels=8,
                out_indices=(0, 1, 2, 3),
                init_cfg=None),
            neck=neck or dict(
                type='FPN',
                in_channels=[8, 16, 32, 64],
                out_channels=8,
                num_outs=4),
            bbox_head=dict(
                type='RetinaHead',
                num_classes=2,
                in_channels=8,
                stacked_convs=1,
                feat_channels=8,
                anchor_generator=dict(
                    type='AnchorGenerator',
                    octave_base_scale=4,
                    scales_per_octave=1,
                    ratios=[1.0],
                    strides=[4, 8, 16, 32]),
                bbox_coder=dict(type='DeltaXYWHBBoxCoder'),
                loss_cls=dict(type='FocalLoss', use_sigmoid=True),
                loss_bbox=dict(type='L1Loss'))))


@pytest.fixture(scope='module')
def model():
    return MODELS.build(compound_cfg())


def runner_at(model, it=0, epoch=0):
    return SimpleNamespace(model=model, iter=it, epoch=epoch)


def test_warmup_switches_the_task_loss_on(model):
    hook = FusionWarmupHook(warmup=3)
    for it, expected in [(0, False), (2, False), (3, True), (10, True)]:
        hook.before_train_iter(runner_at(model, it), it)
        assert model.task_enabled is expected
    # before_train applies the state of a resumed run
    hook.before_train(runner_at(model, 1))
    assert model.task_enabled is False
    by_epoch = FusionWarmupHook(warmup=1, by_epoch=True)
    by_epoch.before_train_iter(runner_at(model, it=50, epoch=0), 0)
    assert model.task_enabled is False
    by_epoch.before_train_iter(runner_at(model, it=50, epoch=1), 0)
    assert model.task_enabled is True
    FusionWarmupHook(warmup=0).before_train(runner_at(model))
    assert model.task_enabled is True


def test_freeze_fusion_range(model):
    hook = FreezeFusionHook(begin=2, end=4)
    states = []
    for it in range(6):
        hook.before_train_iter(runner_at(model, it), it)
        states.append(model.stages['fusion'].frozen)
        assert all(p.requires_grad != model.stages['fusion'].frozen
                   for p in model.fusion_net.parameters())
    assert states == [False, False, True, True, False, False]
    FreezeFusionHook().before_train(runner_at(model, 0))  # to the end
    assert model.stages['fusion'].frozen
    model.train()
    assert not model.fusion_net.training
    model.set_stage_frozen('fusion', False)


def eta_phases(schedule, interpolation='step'):
    """StagingHook phases of an η schedule ``[(begin, η), ...]``."""
    return [dict(begin=t, loss_weights=dict(pre=eta),
                 interpolation=interpolation) for t, eta in schedule]


def test_eta_schedule_step_and_linear(model):
    def eta_at(hook, t):
        return hook.state_at(t)['loss_weights']['pre']

    step = StagingHook(eta_phases([(0, 1.0), (10, 0.5), (20, 0.1)]))
    assert [eta_at(step, t) for t in (0, 9, 10, 19, 20, 99)] == [
        1.0, 1.0, 0.5, 0.5, 0.1, 0.1
    ]
    linear = StagingHook(
        [dict(begin=0, loss_weights=dict(pre=1.0))] +
        eta_phases([(5, 1.0), (15, 0.0)], interpolation='linear'))
    assert eta_at(linear, 0) == 1.0 and eta_at(linear, 100) == 0.0
    assert eta_at(linear, 10) == pytest.approx(0.5)
    linear.before_train_iter(runner_at(model, 12), 12)
    assert model.stages['fusion'].loss_weight == pytest.approx(0.3)
    StagingHook(eta_phases([(0, 1.0)])).before_train(runner_at(model))
    assert model.stages['fusion'].loss_weight == 1.0


@pytest.mark.parametrize(
    'cls,kwargs,match',
    [(FusionWarmupHook, dict(warmup=-1), 'warmup'),
     (FreezeFusionHook, dict(begin=3, end=3), 'end'),
     (FreezeFusionHook, dict(begin=1.5), 'begin'),
     (StagingHook, dict(phases=eta_phases([])), 'must not be empty'),
     (StagingHook, dict(phases=eta_phases([(0, 1.), (0, 2.)])), 'strictly'),
     (StagingHook, dict(phases=eta_phases([(0, -1.)])), 'loss_weights'),
     (StagingHook, dict(phases=eta_phases([(0, 1.)], 'cos')),
      'interpolation')])
def test_argument_errors(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_hooks_reach_the_model_inside_a_search_and_refuse_others():
    space = dict(
        type='mmfusenas.SearchableDistillationNeck',
        in_channels=[8, 16, 32, 64],
        out_channels=8,
        num_outs=4,
        num_nodes=1,
        edge_cfg=dict(
            type='DiffMixedOp', key='n', candidates=['conv_1', 'skip']))
    algo = BilevelSearchAlgorithm(
        compound_cfg(neck=space),
        strategy=dict(type='DartsFirstOrderStrategy'),
        space_path='detector.neck')
    FusionWarmupHook(warmup=5).before_train(runner_at(algo, 0))
    assert algo.architecture.task_enabled is False
    with pytest.raises(TypeError, match='FusionDetector'):
        FusionWarmupHook(warmup=5).before_train(runner_at(nn.Linear(1, 1)))


def test_hooks_are_registered():
    for hook in (FusionWarmupHook, FreezeFusionHook, StagingHook):
        assert HOOKS.get(hook.__name__) is hook
