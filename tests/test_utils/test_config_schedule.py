"""Schedule length: rescale_schedule, and the opt-in checker's
schedule_warnings and overrides of config-file variables
(tools/misc/check_config.py's check_cfg_options)."""
import os.path as osp

import pytest
from mmengine.config import Config

import mmfusenas  # noqa: F401 (registers the config package)
from mmfusenas.utils.schedule import format_schedule_changes, rescale_schedule
from helpers import load_tool

CHECK = load_tool('tools/misc/check_config.py')
check_cfg_options = CHECK.check_cfg_options
schedule_warnings = CHECK.schedule_warnings

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
SEARCH_TOY = osp.join(REPO, 'configs', 'tim', 'search_fusion_ivif_toy.py')
EVOLUTION = osp.join(REPO, 'configs', 'dcnas', 'search_nyu_x4.py')


def test_max_iters_rescales_the_toy_headline_schedule():
    cfg = Config.fromfile(TOY)
    changes = rescale_schedule(cfg, max_iters=50)
    assert changes == [
        ('train_cfg.max_iters', 300, 50),
        # shorter than the config's 100: validate and save at the end only
        ('train_cfg.val_interval', 100, 50),
        ('param_scheduler.0.begin', 50, 8),
        ('param_scheduler.0.end', 70, 12),
        ('param_scheduler.1.begin', 70, 12),
        ('param_scheduler.1.end', 300, 50),
        ('param_scheduler.1.T_max', 230, 38),
        ('default_hooks.logger.interval', 10, 2),
        ('default_hooks.checkpoint.interval', 100, 50),
        ('custom_hooks.0.warmup', 50, 8),  # round(50 * 50 / 300)
    ]
    assert cfg.train_cfg == dict(type='IterBasedTrainLoop', max_iters=50,
                                 val_interval=50)
    assert [(s.begin, s.end)
            for s in cfg.param_scheduler] == [(8, 12), (12, 50)]
    assert cfg.param_scheduler[1].T_max == 50 - 12
    assert cfg.custom_hooks[0] == dict(type='FusionWarmupHook', warmup=8)
    assert cfg.default_hooks.checkpoint.interval == 50
    assert cfg.default_hooks.logger.interval == 2
    # the warm-up ends inside the run: nothing to warn about
    assert schedule_warnings(cfg) == []
    assert format_schedule_changes(changes[:2]) == (
        'schedule rescaled by train_cfg.max_iters 300 → 50 (2 changes):\n'
        '  field                   before  after\n'
        '  train_cfg.max_iters     300     50\n'
        '  train_cfg.val_interval  100     50')
    # the same length changes nothing
    assert rescale_schedule(cfg, max_iters=50) == []


def _iter_config():
    return Config(dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=1000,
                       val_begin=100, val_interval=400),
        param_scheduler=[
            dict(type='LinearLR', by_epoch=False, begin=0, end=10),
            dict(type='MultiStepLR', by_epoch=False,
                 milestones=[300, 600]),
            # counted in epochs: an iteration-based run has one "epoch"
            dict(type='ConstantLR', begin=0, end=3),
            # MMEngine's INF end is kept
            dict(type='CosineAnnealingLR', by_epoch=False, begin=500,
                 end=int(1e9), T_max=700),
        ],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=50),
            checkpoint=dict(type='SafeCheckpointHook', interval=5000,
                            by_epoch=False),
            timer=dict(type='IterTimerHook')),
        custom_hooks=[
            dict(type='FreezeFusionHook', begin=999, end=1000),
            dict(type='StagingHook',
                 phases=[dict(begin=0, loss_weights=dict(pre=1.0)),
                         dict(begin=400, loss_weights=dict(pre=0.5)),
                         dict(begin=401, loss_weights=dict(pre=0.1))]),
            dict(type='mmfusenas.ChainStagingHook', recalibrate_bn=30,
                 phases=[dict(begin=0, train=['scene'], task=False),
                         dict(begin=1, train='all')]),
            dict(type='ArchScheduleHook', by_epoch=False,
                 stages=[dict(begin=0, end=200, keys=[]),
                         dict(begin=200, end=None)]),
            dict(type='ArchLoggingHook', interval=5),  # epochs
            dict(type='SafeCheckpointHook', interval=-1, by_epoch=False),
        ]))


def test_rescale_rounds_caps_and_keeps_positions_distinct():
    cfg = _iter_config()
    changes = rescale_schedule(cfg, max_iters=10)
    assert changes == [
        ('train_cfg.max_iters', 1000, 10),
        ('train_cfg.val_begin', 100, 1),
        ('train_cfg.val_interval', 400, 10),  # at the end only
        ('param_scheduler.0.end', 10, 1),  # 0.1 -> at least 1
        ('param_scheduler.1.milestones.0', 300, 3),
        ('param_scheduler.1.milestones.1', 600, 6),
        ('param_scheduler.3.begin', 500, 5),
        ('param_scheduler.3.T_max', 700, 7),
        ('default_hooks.logger.interval', 50, 1),
        ('default_hooks.checkpoint.interval', 5000, 10),  # capped
        ('custom_hooks.0.begin', 999, 10),
        ('custom_hooks.0.end', 1000, 11),  # kept after begin
        ('custom_hooks.1.phases.1.begin', 400, 4),
        ('custom_hooks.1.phases.2.begin', 401, 5),  # kept after 400
        ('custom_hooks.2.recalibrate_bn', 30, 1),
        ('custom_hooks.3.stages.0.end', 200, 2),
        ('custom_hooks.3.stages.1.begin', 200, 2),
    ]
    assert cfg.param_scheduler[2] == dict(type='ConstantLR', begin=0, end=3)
    assert cfg.param_scheduler[3].end == int(1e9)
    assert [(p.begin, p.loss_weights.pre) for p in cfg.custom_hooks[1].phases
            ] == [(0, 1.0), (4, 0.5), (5, 0.1)]
    assert cfg.custom_hooks[2].phases[1].begin == 1
    assert cfg.custom_hooks[4].interval == 5
    assert cfg.custom_hooks[5].interval == -1


def test_max_epochs_rescales_epoch_settings_and_iteration_ones_alike():
    cfg = Config(dict(
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=100,
                       val_interval=10),
        param_scheduler=[
            dict(type='LinearLR', by_epoch=False, begin=0, end=500),
            dict(type='CosineAnnealingLR', begin=0, end=100, T_max=100)],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=50),
            checkpoint=dict(type='CheckpointHook', interval=20)),
        custom_hooks=[dict(type='FusionWarmupHook', warmup=300)]))
    assert rescale_schedule(cfg, max_epochs=10) == [
        ('train_cfg.max_epochs', 100, 10),
        # val_interval 10: every 10 epochs as before, i.e. at the end
        ('param_scheduler.0.end', 500, 50),  # iterations, not capped
        ('param_scheduler.1.end', 100, 10),
        ('param_scheduler.1.T_max', 100, 10),
        ('default_hooks.checkpoint.interval', 20, 10),  # at the end
        ('custom_hooks.0.warmup', 300, 30),
    ]
    # iterations within an epoch: the epochs keep their length
    assert cfg.default_hooks.logger.interval == 50


def test_wrong_length_option_is_refused_with_the_loop_named():
    with pytest.raises(ValueError) as err:
        rescale_schedule(Config.fromfile(SEARCH_TOY), max_iters=5)
    assert str(err.value) == (
        '--max-iters needs an iteration-based train loop '
        f'(train_cfg.max_iters); {SEARCH_TOY} has an epoch-based train loop '
        '(BilevelEpochBasedTrainLoop, train_cfg.max_epochs=4); use '
        '--max-epochs to rescale its epochs')
    with pytest.raises(ValueError) as err:
        rescale_schedule(Config.fromfile(TOY), max_epochs=5)
    assert str(err.value) == (
        '--max-epochs needs an epoch-based train loop (train_cfg.max_epochs);'
        f' {TOY} has an iteration-based train loop (IterBasedTrainLoop, '
        'train_cfg.max_iters=300); use --max-iters to rescale its '
        'iterations')
    with pytest.raises(ValueError) as err:
        rescale_schedule(Config.fromfile(EVOLUTION), max_iters=5)
    # a loop that declares no iteration_fields (its max_iters counts
    # generations of the evolution)
    assert str(err.value) == (
        f'--max-iters: the train loop of {EVOLUTION} is EvolutionSearchLoop, '
        'which declares no iteration_fields (its length may count something '
        'else than training iterations); set it with --cfg-options '
        'train_cfg.max_iters=N')
    with pytest.raises(ValueError, match=r'--max-iters must be an integer '
                       r'>= 1, got 0'):
        rescale_schedule(Config.fromfile(TOY), max_iters=0)


def test_a_run_inside_its_warm_up_is_named_before_training():
    cfg = Config.fromfile(TOY)
    cfg.train_cfg.max_iters = 50  # --cfg-options train_cfg.max_iters=50
    assert schedule_warnings(cfg) == [
        'FusionWarmupHook (custom_hooks.0): warmup=50 is not before the end '
        'of training (train_cfg.max_iters=50), so the run never gets there. '
        'Train for more than 50 iterations, or shorten the whole schedule '
        'with tools/train.py --max-iters N, which rescales it with it.',
        'the parameter schedule runs past the end of training '
        '(train_cfg.max_iters=50): param_scheduler.0.begin=50, '
        'param_scheduler.0.end=70, param_scheduler.1.begin=70, '
        'param_scheduler.1.end=300, param_scheduler.1.T_max=230; the '
        'schedule is cut where training stops (e.g. the learning rate is not '
        'annealed). tools/train.py --max-iters N sets the length and '
        'rescales the schedule with it.',
    ]
    cfg.train_cfg.max_iters = 51
    assert [w.split(':')[0] for w in schedule_warnings(cfg)] == [
        'the parameter schedule runs past the end of training '
        '(train_cfg.max_iters=51)']
    assert schedule_warnings(Config.fromfile(TOY)) == []


def test_every_declared_start_is_checked():
    cfg = Config(dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=20),
        custom_hooks=[
            dict(type='ChainStagingHook',
                 phases=[dict(begin=0, train=['scene'], task=False),
                         dict(begin=25, train='all')]),
            dict(type='RUASTrainingStrategyHook', strategy='hierarchical',
                 scene_iters=20),
            dict(type='ArchScheduleHook', by_epoch=False,
                 stages=[dict(begin=0, end=30, keys=[]),
                         dict(begin=30, end=None)]),
            # counted in epochs: not comparable with max_iters
            dict(type='FusionWarmupHook', warmup=30, by_epoch=True),
        ]))
    # the first start (``iteration_fields`` kind 'start') of each hook
    # that the run does not reach
    assert [w.split(' is not')[0] for w in schedule_warnings(cfg)] == [
        'ChainStagingHook (custom_hooks.0): phases.1.begin=25',
        'RUASTrainingStrategyHook (custom_hooks.1): scene_iters=20',
        'ArchScheduleHook (custom_hooks.2): stages.1.begin=30',
    ]


def test_overriding_a_config_file_variable_is_an_error():
    cfg = Config.fromfile(TOY)
    with pytest.raises(KeyError) as err:
        check_cfg_options(cfg, {'max_iters': 60})
    assert err.value.args[0] == (
        "--cfg-options max_iters=60: 'max_iters' is a variable of the config "
        f'file {TOY}, not a setting: its value (300) was copied into the '
        'settings when the file was read, so overriding it changes nothing. '
        'Set the settings that hold its value instead: train_cfg.max_iters, '
        'param_scheduler.1.end; to change the length of training use '
        'tools/train.py --max-iters 60, which rescales the schedule with it.')
    # a schedule variable that is not the length: where its value went
    with pytest.raises(KeyError) as err:
        check_cfg_options(cfg, {'warmup_iters': 10})
    assert err.value.args[0].endswith(
        'Set the settings that hold its value instead: '
        'param_scheduler.0.begin, custom_hooks.0.warmup; to change the '
        'length of training use tools/train.py --max-iters N, which rescales '
        'the schedule with it.')
    # a key under a variable: the same key under the settings holding it
    with pytest.raises(KeyError) as err:
        check_cfg_options(cfg, {'tim_fusion_losses_toy.0.loss_weight': 2})
    assert err.value.args[0].endswith(
        'Set the settings that hold its value instead: '
        'model.fusion_losses.0.loss_weight.')
    with pytest.raises(KeyError) as err:
        check_cfg_options(cfg, {'neck_channels': 32})
    assert err.value.args[0].endswith(
        'No setting the run reads holds its value.')
    # keys the runner or the tools read stay overridable
    assert check_cfg_options(cfg, {
        'tensorboard': True, 'sync_bn': None, 'data_root': '/x',
        'train_cfg.max_iters': 60, 'load_from': None}) == []
    predictor = Config(dict(predictor=dict(epochs=3), max_iters=3,
                            train_cfg=dict(max_iters=3)))
    assert check_cfg_options(predictor, {'predictor.epochs': 5}) == []


@pytest.mark.parametrize('new', [1, 200, 799, 3200])
def test_validation_after_the_end_stays_after_the_end(new):
    """``val_begin = max_iters + 1`` (the real-data training configs: the
    test split is never read while training) maps to ``N + 1`` for any new
    length ``N`` (rounding alone gave 200 for 1601 -> N = 200)."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'baselines',
                 'seafusion_ivif_roadscene221_cpu.py'))
    assert cfg.train_cfg.val_begin == 1601
    rescale_schedule(cfg, max_iters=new)
    assert cfg.train_cfg.max_iters == new
    assert cfg.train_cfg.val_begin > new
    if new < 1600:
        assert cfg.train_cfg.val_begin == new + 1
    assert cfg.train_cfg.val_interval == new
    # a position inside the run is rescaled as before
    cfg = Config.fromfile(TOY)
    rescale_schedule(cfg, max_iters=50)
    assert cfg.custom_hooks[0].warmup == 8


@pytest.mark.parametrize('config,new,intervals', [
    # 300 iterations, validation and checkpoints every 100
    (TOY, 6, {'train_cfg.val_interval': 6,
              'default_hooks.checkpoint.interval': 6}),
    # 2000 iterations, a checkpoint every 250 (no validation while training)
    (osp.join(REPO, 'configs', 'tim', 'retinanet_r18_msrs_det_protocol.py'),
     5, {'default_hooks.checkpoint.interval': 5}),
])
def test_a_tiny_run_validates_and_saves_at_its_end_only(config, new,
                                                        intervals):
    """Validation and checkpoint intervals are never shortened below the
    config's: a run shorter than them validates and saves once, at its end
    (they used to shrink with the run: 3 validations in 6 iterations, a
    checkpoint at each of 5 iterations)."""
    cfg = Config.fromfile(config)
    changes = {path: after for path, _, after in
               rescale_schedule(cfg, max_iters=new)}
    for path, after in intervals.items():
        assert changes[path] == after
    assert cfg.train_cfg.get('val_interval', new) == new
    assert cfg.default_hooks.checkpoint.interval == new
    # lengthening still scales them up
    cfg = Config.fromfile(TOY)
    rescale_schedule(cfg, max_iters=600)
    assert cfg.train_cfg.val_interval == 200
    assert cfg.default_hooks.checkpoint.interval == 200
    # a run between the interval and the config's length keeps the interval
    cfg = Config.fromfile(TOY)
    rescale_schedule(cfg, max_iters=250)
    assert cfg.train_cfg.val_interval == 100


def test_a_hook_declares_its_iteration_fields():
    """A new hook states the settings counted in iterations (epochs) in
    ``iteration_fields``; --max-iters rescales them, nothing else changes,
    and its unit is its ``by_epoch`` default."""
    from mmengine.hooks import Hook

    from mmfusenas.registry import HOOKS

    @HOOKS.register_module(force=True)
    class _SwitchHook(Hook):
        iteration_fields = {'switch_iter': 'start', 'every': 'interval'}

        def __init__(self, switch_iter, every, by_epoch=False, size=64):
            pass

    cfg = Config(dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=1000),
        custom_hooks=[dict(type='_SwitchHook', switch_iter=400, every=2000,
                           size=64),
                      dict(type='_SwitchHook', switch_iter=400, every=5,
                           by_epoch=True)]))
    assert rescale_schedule(cfg, max_iters=100) == [
        ('train_cfg.max_iters', 1000, 100),
        ('custom_hooks.0.switch_iter', 400, 40),
        ('custom_hooks.0.every', 2000, 100),  # capped
    ]
    cfg.train_cfg.max_iters = 40
    assert schedule_warnings(cfg)[0].startswith(
        '_SwitchHook (custom_hooks.0): switch_iter=40 is not before the end '
        'of training (train_cfg.max_iters=40)')


def test_the_path_sampler_and_the_pmi_loop_declare_their_fields():
    """The predictor sampler's refresh points are rescaled with the run; the
    PMI loop has no iteration field but its length."""
    cfg = Config(dict(train_cfg=dict(
        type='OneShotIterBasedTrainLoop', max_iters=1000, val_interval=200,
        sampler=dict(type='PredictorPathSampler', predictor='p.pth',
                      refresh_start=250, refresh_interval=100))))
    assert rescale_schedule(cfg, max_iters=100) == [
        ('train_cfg.max_iters', 1000, 100),
        ('train_cfg.val_interval', 200, 100),  # validates at its end
        ('train_cfg.sampler.refresh_start', 250, 25),
        ('train_cfg.sampler.refresh_interval', 100, 10),
    ]
    cfg = Config(dict(train_cfg=dict(type='PMILoop', tasks=[],
                                     max_iters=2000)))
    assert rescale_schedule(cfg, max_iters=10) == [
        ('train_cfg.max_iters', 2000, 10)]
