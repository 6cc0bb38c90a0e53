"""Stages of pre-modules in a compound model: named routing, per-stage
losses, freezing, per-stage checkpoints, staging hook, and a real RetinaNet
behind them."""
import copy
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmfusenas.engine.hooks import ChainStagingHook
from mmfusenas.models import ChainDetector, FusionDataPreprocessor
from mmfusenas.models.compound import FusionStage, SceneStage
from mmfusenas.registry import MODELS
from helpers.stand_ins import Gain, MeanLoss
from helpers.task_models import SIZE, retinanet
from mmfusenas.models.utils.colorspace import (luminance, rgb_to_ycbcr,
                                               ycbcr_to_rgb)


pytestmark = pytest.mark.usefixtures('one_thread')


class Weighted(nn.Module):
    """A 'fusion network' with a known answer: ``Σ_m w_m x_m``."""

    def __init__(self, weights=(0.25, 0.75)) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(weights).view(1, -1, 1, 1))

    def forward(self, x):
        return (self.w * x).sum(1, keepdim=True)


def pre_model(stages, **kw):
    """A compound model to test the stages alone: a ChainDetector whose
    task model is a stand-in (``nn.Identity``)."""
    return ChainDetector(stages=stages, detector=nn.Identity(), **kw)


def chain(**kw):
    stages = [
        dict(name='scene', kind='scene', module=Gain(), inputs=['vi'],
             output='vi_enh', losses=[MeanLoss('loss_s', inputs=('pred', ))],
             loss_weight=0.1),
        dict(name='fusion', kind='fusion', module=Weighted(),
             inputs=['ir', 'vi_enh:y'], output='fused',
             losses=[MeanLoss('loss_f')], loss_weight=0.5),
    ]
    return pre_model(stages, **kw)


def test_named_routing_and_views_give_the_hand_computed_images():
    model = chain()
    g = torch.Generator().manual_seed(0)
    ir, vi = torch.rand(2, 1, 8, 8, generator=g), torch.rand(
        2, 3, 8, 8, generator=g)
    # split by sources = (ir 1, vi 3)
    run = model.run_pre(torch.cat([ir, vi], 1))
    images = run['images']
    torch.testing.assert_close(images['vi_enh'], 2 * vi)
    y = rgb_to_ycbcr(2 * vi)[:, :1]
    torch.testing.assert_close(images['fused'], 0.25 * ir + 0.75 * y)
    torch.testing.assert_close(run['stages']['fusion']['inputs'],
                               torch.cat([ir, y], 1))
    # the same from named images
    again = model.run_pre(dict(ir=ir, vi=vi))['images']['fused']
    torch.testing.assert_close(again, images['fused'])


def test_chain_config_errors_are_named():
    ok = dict(name='f', kind='fusion', module=Weighted(), inputs=['ir', 'vi'],
              output='fused')
    with pytest.raises(KeyError, match="reads 'nope'"):
        pre_model([dict(ok, inputs=['ir', 'nope'])])
    with pytest.raises(ValueError, match="output 'vi' already exists"):
        pre_model([dict(ok, output='vi')])
    with pytest.raises(ValueError, match='one RGB image'):
        pre_model([dict(ok, kind='scene')])
    with pytest.raises(ValueError, match='kind must be one of'):
        pre_model([dict(ok, kind='deblur')])
    with pytest.raises(KeyError, match=r"unknown keys \['loss'\]"):
        pre_model([dict(ok, loss=[])])
    with pytest.raises(ValueError, match="unknown view ':rgb'|unknown view"):
        pre_model([dict(ok, inputs=['ir', 'vi:rgb'])])
    # a stage name is an identifier (its network is the child <name>_net)
    with pytest.raises(ValueError, match='identifier'):
        pre_model([dict(ok, name='my-fusion')])
    with pytest.raises(ValueError, match='stage names must be unique'):
        pre_model([ok, dict(ok, module=Weighted(), output='fused2')])
    with pytest.raises(ValueError, match='keep_rgb'):
        chain().run_pre(torch.rand(1, 2, 8, 8))  # VIS given as Y, not RGB


def test_stage_losses_are_named_weighted_and_switchable():
    model = chain()
    assert isinstance(model.stages['scene'], SceneStage)
    assert isinstance(model.stages['fusion'], FusionStage)
    run = model.run_pre(torch.rand(2, 4, 8, 8))
    losses = model.weighted_losses(run)
    assert set(losses) == {'scene.loss_s', 'scene.lambda', 'fusion.loss_f',
                           'fusion.eta'}
    torch.testing.assert_close(losses['scene.loss_s'],
                               0.1 * run['images']['vi_enh'].mean())
    torch.testing.assert_close(losses['fusion.loss_f'],
                               0.5 * run['images']['fused'].mean())
    assert losses['fusion.eta'].item() == 0.5
    model.active_losses = {'scene'}
    assert set(model.weighted_losses(run)) == {'scene.loss_s', 'scene.lambda'}


def test_a_frozen_stage_gets_no_gradient_but_passes_it_on():
    model = chain()
    model.set_stage_frozen('fusion', True)
    assert not model.stage('fusion').training or not model.training
    out = model.run_pre(torch.rand(2, 4, 8, 8))['images']['fused']
    out.mean().backward()
    assert model.stage('fusion').w.grad is None
    # the gradient of a downstream loss still reaches the scene stage
    assert model.stage('scene').gain.grad is not None
    model.train()
    assert model.stages['fusion'].frozen and not model.stage('fusion').training


def det_samples(n, h, w):
    samples = []
    for i in range(n):
        s = DetDataSample(metainfo=dict(
            stem=f's{i}', img_shape=(h, w), ori_shape=(h, w),
            scale_factor=(1.0, 1.0), modalities=('ir', 'vi'),
            color_modality='vi'))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[4., 6., 30., 40.]]),
            labels=torch.tensor([1]))
        samples.append(s)
    return samples


def raw_batch(n=2, h=SIZE, w=SIZE, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=dict(
            ir=[torch.randint(0, 256, (1, h, w), generator=g,
                              dtype=torch.uint8) for _ in range(n)],
            vi=[torch.randint(0, 256, (3, h, w), generator=g,
                              dtype=torch.uint8) for _ in range(n)]),
        data_samples=det_samples(n, h, w))


def test_keep_rgb_preprocessor_stacks_rgb_and_keeps_luminance_sources():
    pre = FusionDataPreprocessor(keep_rgb=['vi'])
    batch = raw_batch(n=1, h=8, w=8)
    data = pre(copy.deepcopy(batch))
    x, sample = data['inputs'], data['data_samples'][0]
    vi = batch['inputs']['vi'][0].float() / 255
    assert x.shape == (1, 4, 8, 8)
    torch.testing.assert_close(x[0, 1:], vi)
    torch.testing.assert_close(sample.sources[1:], rgb_to_ycbcr(vi)[:1])
    assert sample.input_channels == [('ir', 1), ('vi', 3)]
    assert 'chroma' not in sample
    with pytest.raises(KeyError, match='keep_rgb'):
        FusionDataPreprocessor(keep_rgb=['rgb'])(copy.deepcopy(batch))


def chain_detector(**kw):
    kw.setdefault('task_input', 'fused')
    kw.setdefault('color_from', 'vi_enh')
    return MODELS.build(dict(
        type='ChainDetector',
        stages=[
            dict(name='scene', kind='scene', module=Gain(1.0),
                 inputs=['vi'], output='vi_enh',
                 losses=[MeanLoss('loss_s', inputs=('pred', ))],
                 loss_weight=0.1),
            dict(name='fusion', kind='fusion',
                 module=dict(type='SimpleFusionNet', in_channels=2,
                             base_channels=4, num_dense=1,
                             decoder_channels=(4, )),
                 inputs=['ir', 'vi_enh:y'], output='fused',
                 losses=[dict(type='MaxIntensityLoss')], loss_weight=0.5),
        ],
        detector=retinanet(), **kw))


def test_chain_detector_trains_with_named_losses_and_predicts_every_image():
    model = chain_detector()
    model.train()
    data = model.data_preprocessor(raw_batch(), True)
    losses = model(**data, mode='loss')
    fusion_name = model.fusion_losses[0].loss_name
    assert set(losses) == {'loss_cls', 'loss_bbox', 'scene.loss_s',
                           'scene.lambda', f'fusion.{fusion_name}',
                           'fusion.eta'}
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert model.stage('scene').gain.grad is not None
    model.eval()
    data = model.data_preprocessor(raw_batch(h=SIZE - 8), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    s = out[0]
    assert s.pred_vi_enh.shape == (3, SIZE - 8, SIZE)
    assert s.pred_fused.shape == (1, SIZE - 8, SIZE)
    # the task image: fused Y + the enhanced VIS chroma (gain 1: the VIS)
    vi = raw_batch(h=SIZE - 8)['inputs']['vi'][0].float() / 255
    chroma = rgb_to_ycbcr(vi)[1:]
    expected = ycbcr_to_rgb(torch.cat([s.pred_fused, chroma])).clamp(0, 1)
    torch.testing.assert_close(s.pred_fused_rgb, expected)
    assert 'pred_instances' in s


def test_chain_model_options_are_checked():
    with pytest.raises(KeyError, match="task_input 'nope'"):
        chain_detector(task_input='nope')
    with pytest.raises(KeyError, match="color_from 'vis'"):
        chain_detector(color_from='vis')
    # the stages are the model's own options: an old chain_net config
    # fails loudly
    with pytest.raises(TypeError, match="unexpected keyword.*'chain_net'"):
        MODELS.build(dict(type='ChainDetector',
                          chain_net=dict(type='PreModuleChain', stages=[]),
                          detector=retinanet()))


def test_stage_init_loads_single_stage_checkpoints(tmp_path):
    """A FusionDetector's N_F and an ImageEnhancer's network initialise the
    chain's stages (their prefixes are tried), strictly."""
    model = chain_detector()
    fusion = copy.deepcopy(model.stage('fusion'))
    for p in fusion.parameters():
        nn.init.normal_(p)
    ckpt = tmp_path / 'fusion_detector.pth'
    torch.save(dict(state_dict={f'fusion_net.{k}': v
                                for k, v in fusion.state_dict().items()}),
               ckpt)
    scene_ckpt = tmp_path / 'enhancer.pth'
    torch.save(dict(state_dict={'network.gain': torch.tensor(3.0)}),
               scene_ckpt)
    first = model.stages
    model = chain_detector()
    model.stages['fusion'].init = dict(checkpoint=str(ckpt), prefix=None)
    model.stages['scene'].init = dict(checkpoint=str(scene_ckpt),
                                      prefix=None)
    model.init_weights()
    for k, v in fusion.state_dict().items():
        torch.testing.assert_close(model.stage('fusion').state_dict()[k], v)
    assert model.stage('scene').gain.item() == 3.0
    assert first['scene'].init is None  # the stages are the model's own
    bad = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'fusion_net.other': torch.zeros(1)}), bad)
    model.stages['fusion'].init = dict(checkpoint=str(bad), prefix=None)
    with pytest.raises(Exception, match='fusion.init|other'):
        model.init_weights()


def test_staging_hook_sets_stages_losses_and_task_from_progress():
    model = chain_detector()
    hook = ChainStagingHook(phases=[
        dict(begin=0, train=['scene'], task=False),
        dict(begin=3, train=['fusion'], task=False),
        dict(begin=5, train='all'),
    ])
    runner = SimpleNamespace(model=model, iter=0, epoch=0)
    expected = {0: ({'scene'}, False), 3: ({'fusion'}, False),
                4: ({'fusion'}, False), 5: ({'scene', 'fusion'}, True)}
    for it, (train, task) in expected.items():
        runner.iter = it
        hook.before_train_iter(runner, 0)
        assert {n for n, s in model.stages.items() if not s.frozen} == train
        assert model.active_losses == train
        assert model.task_enabled is task
    # scene warm-up: only the scene trains, on its own loss
    runner.iter = 0
    hook.before_train_iter(runner, 0)
    model.train()
    data = model.data_preprocessor(raw_batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'scene.loss_s', 'scene.lambda'}
    with pytest.raises(ValueError, match='start at 0'):
        ChainStagingHook(phases=[dict(begin=1, train='all')])
    with pytest.raises(KeyError, match=r"stages \['denoise'\]"):
        ChainStagingHook(phases=[dict(begin=0, train=['denoise'])]
                         ).before_train(runner)


def test_apply_phase_sets_exactly_the_keys_it_is_given():
    """``apply_phase``, the one method ``StagingHook`` calls: frozen stages
    and paths, the task switch, the counted losses and the stage weights
    (config: scene 0.1, fusion 0.5); None leaves a key as it is."""
    model = chain_detector()
    fusion = model.stage('fusion')
    model.train()
    model.apply_phase(task=False, frozen=dict(scene=False, fusion=True),
                      losses=['scene'], loss_weights=dict(pre=0.3))
    assert model.task_enabled is False
    assert not any(p.requires_grad for p in fusion.parameters())
    assert not fusion.training and model.stage('scene').gain.requires_grad
    assert model.stages['fusion'].frozen
    assert not model.stages['scene'].frozen
    assert model.active_losses == {'scene'}
    assert [s.loss_weight for s in model.stages.values()] == [0.3, 0.3]
    assert all(p.requires_grad for p in model.detector.parameters())
    # a stage's own weight; a module path; the task and losses unchanged
    model.apply_phase(frozen={'fusion': False, 'detector.backbone': True},
                      loss_weights=dict(fusion=0.25), recalibrate_bn={'x'})
    assert all(p.requires_grad for p in fusion.parameters())
    assert fusion.training and not model.stages['fusion'].frozen
    assert not any(p.requires_grad
                   for p in model.detector.backbone.parameters())
    assert all(p.requires_grad for p in model.detector.bbox_head.parameters())
    assert [s.loss_weight for s in model.stages.values()] == [0.3, 0.25]
    assert model.task_enabled is False and model.active_losses == {'scene'}
    assert not model.bn_recalibrating('fusion')  # only names of stages count
    model.apply_phase(task=True, losses='all')
    assert model.task_enabled is True
    assert model.active_losses == {'scene', 'fusion'}
    # a frozen stage re-estimating its BN statistics, then no longer
    model.apply_phase(frozen=dict(fusion=True), recalibrate_bn={'fusion'},
                      reset_bn=True)
    assert model.bn_recalibrating('fusion') and model.stages['fusion'].frozen
    model.apply_phase()
    assert not model.bn_recalibrating('fusion')
    for bad in (dict(losses=['detector']), dict(loss_weights=dict(x=1.0))):
        with pytest.raises(KeyError, match="'scene', 'fusion'"):
            model.apply_phase(**bad)


def test_a_chain_without_stages_routes_a_source_to_the_task_model():
    # mean 0, std 255: the task input is the picture in [0, 1]
    unit = dict(mean=(0., 0., 0.), std=(255., 255., 255.))
    model = MODELS.build(dict(
        type='ChainDetector', stages=[], task_input='vi',
        detector=retinanet(), **unit))
    data = model.data_preprocessor(raw_batch(n=1), False)
    run = model.run_pre(data['inputs'])
    torch.testing.assert_close(model.task_inputs(run), data['inputs'][:, 1:])
    gray = MODELS.build(dict(
        type='ChainDetector', stages=[], task_input='ir',
        detector=retinanet(), **unit))
    torch.testing.assert_close(gray.task_inputs(run),
                               data['inputs'][:, :1].expand(-1, 3, -1, -1))


class NormedWeighted(nn.Module):
    """A 'fusion network' with BatchNorm: ``BN(Σ_m w_m x_m)``."""

    def __init__(self) -> None:
        super().__init__()
        self.mix = Weighted((0.5, 0.5))
        self.bn = nn.BatchNorm2d(1, affine=False)

    def forward(self, x):
        return self.bn(self.mix(x))


def bn_chain():
    return pre_model(stages=[
        dict(name='fusion', kind='fusion', module=NormedWeighted(),
             inputs=['ir', 'vi:y'], output='fused',
             losses=[MeanLoss('loss_f')]),
    ])


def test_bn_recalibration_of_a_frozen_stage_gives_the_batches_statistics():
    torch.manual_seed(0)
    model = bn_chain()
    bn = model.stage('fusion').bn
    batches = [torch.rand(3, 4, 5, 5) * 0.01 + i for i in range(3)]
    model.set_stage_frozen('fusion', True)
    model.train()
    # frozen: eval mode, the initial statistics (mean 0, var 1) are used
    model.run_pre(batches[0])
    assert bn.num_batches_tracked.item() == 0 and not bn.training
    model.set_bn_recalibration('fusion', True)
    assert model.bn_recalibrating('fusion') and bn.training
    assert bn.momentum is None and bn.running_var.item() == 1.0
    mixed = []
    with torch.no_grad():
        for x in batches:
            model.run_pre(x)
            mixed.append(0.5 * x[:, :1] + 0.5 * luminance(x[:, 1:]))
    # the cumulative average of the batch means / unbiased variances
    torch.testing.assert_close(
        bn.running_mean, torch.stack([m.mean() for m in mixed]).mean()[None])
    torch.testing.assert_close(
        bn.running_var, torch.stack([m.var() for m in mixed]).mean()[None])
    assert bn.num_batches_tracked.item() == 3
    # the weights stayed frozen; eval mode leaves the statistics alone
    assert not any(p.requires_grad for p in model.stage('fusion').parameters())
    model.eval()
    assert not bn.training
    model.run_pre(batches[0])
    assert bn.num_batches_tracked.item() == 3
    model.train()
    assert bn.training  # still recalibrating
    model.set_bn_recalibration('fusion', False)
    assert bn.momentum == 0.1 and not bn.training
    assert not model.bn_recalibrating('fusion')
    # one batch: the eval output is the training-mode output (up to the
    # unbiased variance of the running statistics, BN's eps = 1e-5)
    model.set_bn_recalibration('fusion', True)
    with torch.no_grad():
        train_out = model.run_pre(batches[1])['images']['fused']
    model.set_bn_recalibration('fusion', False)
    with torch.no_grad():
        eval_out = model.run_pre(batches[1])['images']['fused']
    m = mixed[1]
    ratio = (m.var(unbiased=False) + 1e-5) / (m.var() + 1e-5)
    torch.testing.assert_close(eval_out, train_out * ratio.sqrt())


def test_staging_hook_recalibrates_the_bn_of_stages_it_freezes():
    model = MODELS.build(dict(
        type='ChainDetector',
        stages=[
            dict(name='scene', kind='scene', module=Gain(), inputs=['vi'],
                 output='vi_enh',
                 losses=[MeanLoss('loss_s', inputs=('pred', ))]),
            dict(name='fusion', kind='fusion', module=NormedWeighted(),
                 inputs=['ir', 'vi_enh:y'], output='fused',
                 losses=[MeanLoss('loss_f')]),
        ],
        task_input='fused', color_from='vi_enh', detector=retinanet()))
    hook = ChainStagingHook(phases=[
        dict(begin=0, train=['fusion'], task=False),
        dict(begin=4, train=['scene'], task=False),
        dict(begin=6, train='all'),
    ], recalibrate_bn=2)
    names = tuple(model.stages)
    assert hook.recalibrated_stages(3, names) == set()
    assert hook.recalibrated_stages(4, names) == {'fusion'}
    assert hook.recalibrated_stages(5, names) == {'fusion'}
    assert hook.recalibrated_stages(6, names) == set()
    bn = model.stage('fusion').bn
    runner = SimpleNamespace(model=model, iter=0, epoch=0)
    model.train()
    torch.manual_seed(0)
    x = torch.rand(2, 4, 5, 5)
    for it in range(7):
        runner.iter = it
        hook.before_train_iter(runner, 0)
        recal = 4 <= it < 6
        assert model.bn_recalibrating('fusion') is recal
        assert bn.training is (it < 4 or it >= 6 or recal)
        assert bn.momentum == (None if recal else 0.1)
        with torch.no_grad():
            model.run_pre(x)
        if it == 4:  # reset at the phase's begin, then one batch
            assert bn.num_batches_tracked.item() == 1
    # a resumed run in the window continues the average (no second reset)
    model.set_bn_recalibration('fusion', False)
    runner.iter = 5
    tracked = bn.num_batches_tracked.item()
    hook.before_train_iter(runner, 0)
    assert bn.num_batches_tracked.item() == tracked
    with pytest.raises(ValueError, match='recalibrate_bn'):
        ChainStagingHook(phases=[dict(begin=0, train='all')],
                         recalibrate_bn=-1)


def test_staging_hook_lr_mult_scales_a_phase_and_restores_before_schedulers():
    from mmengine.optim.scheduler import LinearLR

    from mmfusenas.engine.hooks.staging_hook import BASE_LR_KEY
    model = chain_detector()
    groups = [
        dict(params=list(model.stage('scene').parameters()), lr=1e-3),
        dict(params=list(model.stage('fusion').parameters()), lr=1e-3),
        dict(params=list(model.detector.parameters()), lr=2e-3),
    ]
    opt = torch.optim.AdamW(groups)
    # the task schedule starts with the joint phase (as the toy configs);
    # factor 0.1 at iteration 5, 1 from 6 on
    sched = LinearLR(opt, start_factor=0.1, begin=5, end=7, by_epoch=False)
    hook = ChainStagingHook(phases=[
        dict(begin=0, train=['scene'], task=False),
        dict(begin=3, train=['fusion'], task=False, lr_mult=3),
        dict(begin=5, train='all'),
    ])
    runner = SimpleNamespace(model=model, iter=0, epoch=0,
                             optim_wrapper=SimpleNamespace(optimizer=opt))
    seen = {}
    for it in range(7):
        runner.iter = it
        hook.before_train_iter(runner, it)
        seen[it] = [g['lr'] for g in opt.param_groups]
        hook.after_train_iter(runner, it)  # HIGH: before the scheduler
        sched.step()
    # scene warm-up: the optimizer's lr; N_F warm-up: 3x on N_F's group
    # only; joint phase: the scheduler's factor on the base lr
    assert seen[0] == pytest.approx([1e-3, 1e-3, 2e-3])
    assert seen[3] == pytest.approx([1e-3, 3e-3, 2e-3])
    assert seen[4] == pytest.approx([1e-3, 3e-3, 2e-3])
    assert seen[5] == pytest.approx([1e-4, 1e-4, 2e-4])
    assert seen[6] == pytest.approx([1e-3, 1e-3, 2e-3])  # end factor 1
    assert all(BASE_LR_KEY not in g for g in opt.param_groups)
    # a run resumed inside the phase: the base lr travels with the
    # optimizer state and the factor is not applied twice
    runner.iter = 4
    hook.before_train_iter(runner, 4)
    state = copy.deepcopy(opt.state_dict())
    opt2 = torch.optim.AdamW(copy.deepcopy(groups))
    opt2.load_state_dict(state)
    runner.optim_wrapper = SimpleNamespace(optimizer=opt2)
    hook.before_train_iter(runner, 4)
    assert [g['lr'] for g in opt2.param_groups] == pytest.approx(
        [1e-3, 3e-3, 2e-3])
    # a scaled group may not hold task parameters that train
    mixed = torch.optim.AdamW([dict(params=list(model.parameters()),
                                    lr=1e-3)])
    runner.optim_wrapper = SimpleNamespace(optimizer=mixed)
    bad = ChainStagingHook(phases=[dict(begin=0, train='all', lr_mult=2.0)])
    with pytest.raises(ValueError, match='task model parameters'):
        bad.before_train_iter(runner, 0)
    with pytest.raises(ValueError, match='lr_mult'):
        ChainStagingHook(phases=[dict(begin=0, train='all', lr_mult=0)])
