"""StagingHook: hand-made phase lists checked iteration by iteration, the
state being a function of the progress alone, and invalid lists."""
import logging
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmfusenas.engine.hooks import (ChainStagingHook, FusionWarmupHook,
                                    RUASTrainingStrategyHook, StagingHook)
from mmfusenas.models.enhancers import ImageEnhancer
from mmfusenas.models.losses import RUASDenoiseLoss, RUASSceneLoss
from mmfusenas.models.scene import RUASDenoiseNet, RUASIlluminationNet, RUASNet
from mmfusenas.registry import HOOKS, MODELS
from helpers.stand_ins import Gain, MeanLoss
from helpers.task_models import retinanet


pytestmark = pytest.mark.usefixtures('one_thread')


def fusion_detector():
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='FusionDetector',
        fusion_net=dict(type='SimpleFusionNet', in_channels=2,
                        base_channels=4, num_dense=1, decoder_channels=(4, )),
        fusion_losses=[dict(type='MaxIntensityLoss')],
        fusion_loss_weight=0.7,
        detector=retinanet()))


def det_batch(model, size=32):
    g = torch.Generator().manual_seed(0)
    sample = DetDataSample(metainfo=dict(
        img_shape=(size, size), ori_shape=(size, size),
        scale_factor=(1.0, 1.0), modalities=('ir', 'vi'),
        color_modality='vi'))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[4., 6., 20., 24.]]), labels=torch.tensor([1]))
    raw = dict(inputs=dict(
        ir=[torch.randint(0, 256, (1, size, size), generator=g,
                          dtype=torch.uint8)],
        vi=[torch.randint(0, 256, (3, size, size), generator=g,
                          dtype=torch.uint8)]), data_samples=[sample])
    return model.data_preprocessor(raw, True)


def enhancer():
    torch.manual_seed(0)
    cell = dict(type='RUASDistillationCell', ops=['conv_3x3'] * 7)
    net = RUASNet(RUASIlluminationNet(cell, num_stages=1),
                  RUASDenoiseNet(cell, num_cells=1, channels=6))
    return ImageEnhancer(net, [RUASSceneLoss(), RUASDenoiseLoss()])


def runner_at(model, it=0, epoch=0):
    return SimpleNamespace(model=model, iter=it, epoch=epoch,
                           logger=logging.getLogger('test'))


def trains(module):
    flags = {p.requires_grad for p in module.parameters()}
    assert len(flags) == 1, 'a part is either frozen or trained as a whole'
    return flags.pop()


#: warm-up on l_F, joint with eta ramped 1 -> 0.2, then N_F frozen
FUSION_PHASES = [
    dict(begin=0, task=False, train=['fusion'], loss_weights=dict(pre=1.0)),
    dict(begin=2, task=True, loss_weights=dict(fusion=1.0),
         interpolation='linear'),
    dict(begin=6, train=[], loss_weights=dict(fusion=0.2)),
]


def test_fusion_phases_iteration_by_iteration():
    model = fusion_detector()
    hook = StagingHook(FUSION_PHASES)
    # iteration: (task runs, N_F trains, eta)
    expected = {0: (False, True, 1.0), 1: (False, True, 1.0),
                2: (True, True, 1.0), 3: (True, True, 0.8),
                5: (True, True, 0.4), 6: (True, False, 0.2),
                9: (True, False, 0.2)}
    for it, (task, fusion_trains, eta) in expected.items():
        hook.before_train_iter(runner_at(model, it), it)
        assert model.task_enabled is task, it
        assert trains(model.fusion_net) is fusion_trains, it
        assert model.stages['fusion'].frozen is not fusion_trains, it
        assert trains(model.detector)  # the task model is never frozen
        assert model.stages['fusion'].loss_weight == pytest.approx(eta), it
    # the weight the model sees in its loss, with the task model off / on
    model.train()
    for it, keys in ((1, set()), (3, {'loss_cls', 'loss_bbox'})):
        hook.before_train_iter(runner_at(model, it), it)
        losses = model(**det_batch(model), mode='loss')
        assert losses['fusion.eta'].item() == pytest.approx(
            expected[it][2])
        assert keys <= set(losses) and ('loss_cls' in losses) is bool(keys)


def test_the_state_is_a_function_of_the_progress_alone():
    # an uninterrupted run and a fresh model / hook started ("resumed") at
    # each iteration are in the same state
    model, hook = fusion_detector(), StagingHook(FUSION_PHASES)
    for it in range(8):
        hook.before_train_iter(runner_at(model, it), it)
        fresh, again = fusion_detector(), StagingHook(FUSION_PHASES)
        again.before_train(runner_at(fresh, it))
        assert fresh.task_enabled == model.task_enabled, it
        for attr in ('frozen', 'loss_weight'):
            assert getattr(fresh.stages['fusion'], attr) == getattr(
                model.stages['fusion'], attr), (it, attr)
        assert [p.requires_grad for p in fresh.parameters()] == [
            p.requires_grad for p in model.parameters()]
    # counted in epochs: the iteration does not matter
    by_epoch = StagingHook(FUSION_PHASES, by_epoch=True)
    by_epoch.before_train_iter(runner_at(model, it=100, epoch=1), 0)
    assert model.task_enabled is False


def test_a_key_no_phase_states_is_left_to_the_model_and_other_hooks():
    model = fusion_detector()
    model.set_stage_frozen('fusion', True)
    fusion = model.stages['fusion']
    FusionWarmupHook(warmup=2).before_train(runner_at(model, 0))
    assert fusion.frozen and fusion.loss_weight == 0.7
    StagingHook([dict(begin=0, loss_weights=dict(pre=0.3))]).before_train(
        runner_at(model, 0))
    assert fusion.frozen and model.task_enabled is False
    assert fusion.loss_weight == 0.3


def test_enhancer_parts_losses_and_weights():
    model = enhancer()
    hook = StagingHook([
        dict(begin=0, train=['network.scene'], losses=['loss_scene'],
             loss_weights=dict(loss_scene=2.0)),
        dict(begin=3, train='all', losses='all', loss_weights={}),
        # the network's other children are frozen
        dict(begin=4, train=['network.denoiser']),
    ])
    for it in range(5):
        hook.before_train_iter(runner_at(model, it), it)
        assert trains(model.network.scene) is (it < 4)
        assert trains(model.network.denoiser) is (it >= 3)
        assert model.active_losses == (('loss_scene', ) if it < 3 else None)
        assert model.loss_weights == ({'loss_scene': 2.0} if it < 3 else {})
    y = torch.rand(1, 3, 8, 8)
    hook.before_train_iter(runner_at(model, 0), 0)
    scaled = model.loss(y, None)
    assert set(scaled) == {'loss_scene'}
    model.configure_losses()
    torch.testing.assert_close(scaled['loss_scene'],
                               2.0 * model.loss(y, None)['loss_scene'])


def test_ruas_hierarchical_without_a_scene_stage_freezes_the_scene():
    model = enhancer()
    hook = RUASTrainingStrategyHook('hierarchical', scene_iters=0)
    hook.before_train(runner_at(model, 0))
    assert not trains(model.network.scene) and trains(model.network.denoiser)
    assert model.active_losses == ('loss_denoise', )
    hook.after_train(runner_at(model, 0))
    assert trains(model.network.scene) and model.active_losses is None


def chain_detector():
    return MODELS.build(dict(
        type='ChainDetector', task_input='fused', color_from='vi_enh',
        stages=[
            dict(name='scene', kind='scene', module=Gain(1.0), inputs=['vi'],
                 output='vi_enh',
                 losses=[MeanLoss('loss_s', inputs=('pred', ))]),
            dict(name='fusion', kind='fusion',
                 module=dict(type='SimpleFusionNet', in_channels=2,
                             base_channels=4, num_dense=1,
                             decoder_channels=(4, )),
                 inputs=['ir', 'vi_enh:y'], output='fused',
                 losses=[dict(type='MaxIntensityLoss')]),
        ], detector=retinanet()))


def test_chain_stages_with_explicit_losses():
    model = chain_detector()
    hook = StagingHook([
        dict(begin=0, task=False, train=['scene'], losses=['scene']),
        # the scene frozen, both stages' losses counted
        dict(begin=2, train=['fusion'], losses='all'),
        dict(begin=4, task=True, train='all', lr_mult=None),
    ])
    for it, (train, losses, task) in {
            0: ({'scene'}, {'scene'}, False),
            2: ({'fusion'}, {'scene', 'fusion'}, False),
            4: ({'scene', 'fusion'}, {'scene', 'fusion'}, True)}.items():
        hook.before_train_iter(runner_at(model, it), it)
        assert {n for n, s in model.stages.items() if not s.frozen} == train
        assert model.active_losses == losses and model.task_enabled is task


def test_aliases_are_staging_hooks():
    for name in ('FusionWarmupHook', 'FreezeFusionHook', 'ChainStagingHook',
                 'RUASTrainingStrategyHook', 'StagingHook'):
        assert issubclass(HOOKS.get(name), StagingHook)
    hook = ChainStagingHook([dict(begin=0, train=['scene'])])
    assert hook.phases[0]['losses'] == ['scene'] and hook.phases[0]['task']


@pytest.mark.parametrize('phases,error,match', [
    ([], ValueError, 'must not be empty'),
    ([dict(begin=0, trian=['pre'])], KeyError, "'trian'"),
    ([dict(task=False)], KeyError, "'begin'"),
    ([dict(begin=1, task=False)], ValueError, 'start at 0'),
    ([dict(begin=0, task=False), dict(begin=0, task=True)], ValueError,
     'increase strictly'),
    ([dict(begin=-1)], ValueError, r'phases\[0\]\.begin'),
    ([dict(begin=0, task=1)], ValueError, r'phases\[0\]\.task'),
    ([dict(begin=0, train=None)], ValueError, r'phases\[0\]\.train'),
    ([dict(begin=0, loss_weights=dict(pre=-1.0))], ValueError,
     r'phases\[0\]\.loss_weights'),
    ([dict(begin=0, lr_mult=0)], ValueError, r'phases\[0\]\.lr_mult'),
    ([dict(begin=0, interpolation='cos')], ValueError,
     r'phases\[0\]\.interpolation'),
    # a later phase may not start staging a key the first leaves alone
    ([dict(begin=0, task=False), dict(begin=5, train=[])], KeyError,
     r"phases\[1\] sets \['train'\]"),
    ([dict(begin=0, loss_weights=dict(pre=1.0), interpolation='linear'),
      dict(begin=5, loss_weights=dict(fusion=0.5))], ValueError,
     r"phases\[0\]\.interpolation='linear'"),
])
def test_invalid_phase_lists_are_rejected_naming_the_key(
        phases, error, match):
    with pytest.raises(error, match=match):
        StagingHook(phases)
    with pytest.raises(ValueError, match='recalibrate_bn'):
        StagingHook([dict(begin=0)], recalibrate_bn=-1)


@pytest.mark.parametrize('phase,match', [
    (dict(train=['detector']),
     r"stages \['detector'\].*\['pre', 'fusion'\]"),
    (dict(losses=['scene']), 'losses'),
    (dict(loss_weights=dict(loss_cls=1.0)), "'loss_cls'"),
])
def test_names_the_model_lacks_are_rejected_when_applied(phase, match):
    with pytest.raises(KeyError, match=match):
        StagingHook([dict(begin=0, **phase)]).before_train(
            runner_at(fusion_detector()))
    with pytest.raises(TypeError, match='ImageEnhancer'):
        StagingHook([dict(begin=0)]).before_train(runner_at(nn.Linear(1, 1)))


class _Phased(nn.Module):
    """Any model with the phase interface: two parts, one group name."""

    phase_group = 'all_parts'

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(1, 1), nn.Linear(1, 1)
        self.calls = []

    def phase_parts(self):
        return dict(a=self.a, b=self.b)

    def apply_phase(self, **kwargs):
        self.calls.append(kwargs)


def test_the_hook_stages_any_model_through_apply_phase():
    """The hook knows the model only by ``phase_parts``, ``phase_group``
    and ``apply_phase`` (the compound models and ImageEnhancer implement
    them)."""
    hook = StagingHook([
        dict(begin=0, task=False, train=['all_parts'],
             loss_weights=dict(a=1.0)),
        dict(begin=4, task=True, train=['b'], loss_weights=dict(a=0.5))])
    model = _Phased()
    for it in (0, 4):
        hook.before_train_iter(SimpleNamespace(model=model, iter=it))
    assert model.calls == [
        dict(task=False, losses=None, frozen=dict(a=False, b=False),
             loss_weights=dict(a=1.0), recalibrate_bn=set(), reset_bn=True),
        dict(task=True, losses=None, frozen=dict(a=True, b=False),
             loss_weights=dict(a=0.5), recalibrate_bn=set(), reset_bn=True)]


class _Algorithm(nn.Module):
    """A search algorithm whose ``architecture`` has no ``apply_phase``."""

    def __init__(self):
        super().__init__()
        self.architecture = nn.Linear(1, 1)


@pytest.mark.parametrize('hook,owner', [
    (StagingHook([dict(begin=0, task=False)]), 'StagingHook'),
    (FusionWarmupHook(warmup=2), r'FusionWarmupHook\(warmup=2\)'),
])
def test_a_model_without_apply_phase_is_a_type_error(hook, owner):
    """The error names the hook and the runner model's class."""
    for model, name in ((nn.Linear(1, 1), 'Linear'),
                        (_Algorithm(), '_Algorithm')):
        with pytest.raises(TypeError,
                           match=f'^{owner}: {name} has no apply_phase'):
            hook.before_train_iter(SimpleNamespace(model=model, iter=0))
