"""tools/train.py --max-iters / --max-epochs, overrides of config-file
variables and the warnings of stages a run does not reach (configs built,
nothing trained)."""
import logging
import os.path as osp
from types import SimpleNamespace

import pytest

import mmfusenas.engine.runner as engine_runner
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
SEARCH_TOY = osp.join(REPO, 'configs', 'tim', 'search_fusion_ivif_toy.py')


@pytest.fixture(scope='module')
def train():
    return load_tool('tools/train.py')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy') / 'toy')
    generate_toy_dataset(root, num=4, seed=3, size=64, val_fraction=0.5)
    return root


def build(train, argv, notes=None):
    return train.build_config(train.parse_args(argv), notes)


def test_max_iters_shortens_the_whole_schedule(train, toy_root, tmp_path):
    notes = []
    cfg = build(train, [TOY, '--data-root', toy_root, '--work-dir',
                        str(tmp_path), '--max-iters', '50'], notes)
    assert cfg.train_cfg.max_iters == 50
    assert cfg.train_cfg.val_interval == 50
    assert cfg.custom_hooks[0] == dict(type='FusionWarmupHook', warmup=8)
    assert [(s.begin, s.end)
            for s in cfg.param_scheduler] == [(8, 12), (12, 50)]
    assert cfg.param_scheduler[1].T_max == 38
    assert cfg.default_hooks.checkpoint.interval == 50
    assert cfg.default_hooks.logger.interval == 2
    assert notes[0] == (logging.INFO, '\n'.join([
        'schedule rescaled by train_cfg.max_iters 300 → 50 (10 changes):',
        '  field                              before  after',
        '  train_cfg.max_iters                300     50',
        '  train_cfg.val_interval             100     50',
        '  param_scheduler.0.begin            50      8',
        '  param_scheduler.0.end              70      12',
        '  param_scheduler.1.begin            70      12',
        '  param_scheduler.1.end              300     50',
        '  param_scheduler.1.T_max            230     38',
        '  default_hooks.logger.interval      10      2',
        '  default_hooks.checkpoint.interval  100     50',
        '  custom_hooks.0.warmup              50      8',
    ]))
    assert [level for level, _ in notes] == [logging.INFO]


def test_six_iterations_validate_and_save_once(train, toy_root, tmp_path):
    notes = []
    cfg = build(train, [TOY, '--data-root', toy_root, '--work-dir',
                        str(tmp_path), '--max-iters', '6'], notes)
    # the config validates and saves every 100 of 300 iterations: 6
    # iterations do both once, at the end (not every 2 iterations)
    assert cfg.train_cfg.val_interval == 6
    assert cfg.default_hooks.checkpoint.interval == 6
    table = notes[0][1].splitlines()
    assert table[1].split() == ['field', 'before', 'after']
    assert '  train_cfg.val_interval             100     6' in table
    assert '  default_hooks.checkpoint.interval  100     6' in table


def test_values_given_with_cfg_options_win(train, toy_root, tmp_path):
    notes = []
    cfg = build(train, [
        TOY, '--data-root', toy_root, '--work-dir', str(tmp_path),
        '--max-iters', '50', '--cfg-options', 'train_cfg.val_interval=10',
        'default_hooks.logger.interval=5', 'custom_hooks.0.warmup=5'
    ], notes)
    assert cfg.train_cfg.val_interval == 10  # within the run: unchanged
    assert cfg.default_hooks.logger.interval == 5
    assert cfg.custom_hooks[0].warmup == 5
    assert cfg.param_scheduler[0].begin == 8
    assert (logging.INFO, '--max-iters: kept as given with '
            '--cfg-options: default_hooks.logger.interval, '
            'custom_hooks.0.warmup') in notes
    with pytest.raises(ValueError, match=r'--max-iters and --cfg-options '
                       r'train_cfg\.max_iters both set the length'):
        build(train, [TOY, '--data-root', toy_root, '--max-iters', '50',
                      '--cfg-options', 'train_cfg.max_iters=20'])
    with pytest.raises(SystemExit):
        train.parse_args([TOY, '--max-iters', '5', '--max-epochs', '5'])


def test_max_iters_on_an_epoch_based_search_is_refused(train, tmp_path):
    with pytest.raises(ValueError) as err:
        build(train, [SEARCH_TOY, '--work-dir', str(tmp_path), '--max-iters',
                      '5'])
    assert str(err.value).endswith(
        'has an epoch-based train loop (BilevelEpochBasedTrainLoop, '
        'train_cfg.max_epochs=4); use --max-epochs to rescale its epochs')
    cfg = build(train, [SEARCH_TOY, '--work-dir', str(tmp_path),
                        '--max-epochs', '2'])
    assert cfg.train_cfg.max_epochs == 2


def test_overriding_the_max_iters_variable_is_an_error(train, toy_root,
                                                       tmp_path):
    work = str(tmp_path / 'w')
    with pytest.raises(KeyError) as err:
        # (train_cfg.max_iters=1: a short run where the option is ignored)
        train.main([TOY, '--data-root', toy_root, '--work-dir', work,
                    '--cfg-options', 'max_iters=60', 'train_cfg.max_iters=1'])
    assert err.value.args[0] == (
        f"--cfg-options max_iters: 'max_iters' is a variable of {TOY}, not a "
        'setting, so overriding it changes nothing; set the settings that '
        f'hold its value (tools/misc/check_config.py {TOY} --cfg-options '
        'max_iters=... names them)')
    assert not osp.exists(work)  # refused before anything was written


class _FakeRunner:
    """What main() needs of a runner: a logger and train()."""

    def __init__(self, events):
        self.events = events
        self.logger = SimpleNamespace(
            log=lambda level, text: events.append((level, text)))

    def train(self):
        self.events.append('train')


def test_a_run_inside_the_warm_up_is_reported_by_the_checker(
        train, toy_root, tmp_path, monkeypatch, capsys):
    """Training logs no lint; the opt-in checker names what the run never
    reaches."""
    events = []
    monkeypatch.setattr(engine_runner, 'build_runner',
                        lambda cfg: _FakeRunner(events))
    argv = [TOY, '--data-root', toy_root, '--work-dir', str(tmp_path),
            '--cfg-options', 'train_cfg.max_iters=50']
    train.main(argv)
    assert events == ['train']
    load_tool('tools/misc/check_config.py').main(argv)
    warnings = [line for line in capsys.readouterr().out.splitlines()
                if line.startswith('warning: ')]
    assert len(warnings) == 2
    assert warnings[0].startswith(
        'warning: FusionWarmupHook (custom_hooks.0): warmup=50 is not before '
        'the end of training (train_cfg.max_iters=50), so the run never gets '
        'there')
    assert warnings[1].startswith(
        'warning: the parameter schedule runs past the end of training '
        '(train_cfg.max_iters=50): param_scheduler.0.begin=50')
    # rescaled: the table only (the warm-up is rescaled with the run)
    events.clear()
    train.main([TOY, '--data-root', toy_root, '--work-dir', str(tmp_path),
                '--max-iters', '50'])
    assert [e[0] for e in events[:-1]] == [logging.INFO]
    assert events[0][1].splitlines()[-1] == (
        '  custom_hooks.0.warmup              50      8')
