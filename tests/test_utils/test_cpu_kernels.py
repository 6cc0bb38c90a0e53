"""The CPU kernel switches (mmfusenas.utils.cpu_kernels): defaults, the
context manager, the errors, the config key (runner build, init_model,
the tools' option checks), and that the package reads no switch from the
environment."""
import argparse
import dataclasses
import glob
import importlib
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from mmfusenas.utils import cpu_kernels as ck_module
from mmfusenas.utils.cpu_kernels import (SWITCHES, CpuKernels,
                                         UnknownSwitchError,
                                         apply_cpu_kernels_cfg, cpu_kernels,
                                         get_cpu_kernels, set_cpu_kernels)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = osp.join(ROOT, 'mmfusenas')
ALL = ('numba', 'winograd', 'direct_conv', 'grouped_conv', 'tap_products',
       'paired_products', 'separable_filter', 'channels_last',
       'commuted_upsampling', 'metric_filters')
TOY = osp.join(ROOT, 'configs', 'tim', 'fusion_ivif_toy.py')


@pytest.fixture(autouse=True)
def restored():
    """Every test leaves the settings as it found them."""
    before = get_cpu_kernels()
    with cpu_kernels():
        yield
    assert get_cpu_kernels() is before


def test_defaults_are_all_on():
    assert SWITCHES == ALL
    assert get_cpu_kernels() == CpuKernels()
    assert get_cpu_kernels().as_dict() == {name: True for name in ALL}
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_cpu_kernels().winograd = False
    # a plain attribute of the module's current value: no environment read
    assert get_cpu_kernels() is ck_module._CURRENT


def test_context_manager_sets_and_restores():
    before = get_cpu_kernels()
    with cpu_kernels(winograd=False, numba=False) as inside:
        assert inside is get_cpu_kernels()
        assert not inside.winograd and not inside.numba
        assert inside.direct_conv and inside.channels_last
        with cpu_kernels(winograd=True, channels_last=False):
            now = get_cpu_kernels()
            assert now.winograd and not now.numba and not now.channels_last
        assert get_cpu_kernels() is inside
        # whatever the block sets meanwhile goes too
        set_cpu_kernels(tap_products=False)
    assert get_cpu_kernels() is before


def test_context_manager_restores_on_an_exception():
    before = get_cpu_kernels()
    with pytest.raises(RuntimeError, match='boom'):
        with cpu_kernels(direct_conv=False):
            assert not get_cpu_kernels().direct_conv
            raise RuntimeError('boom')
    assert get_cpu_kernels() is before and before.direct_conv


def test_set_cpu_kernels_returns_the_previous_settings():
    before = get_cpu_kernels()
    previous = set_cpu_kernels(grouped_conv=False)
    assert previous is before
    assert not get_cpu_kernels().grouped_conv
    assert set_cpu_kernels() is get_cpu_kernels()  # nothing to change


def test_unknown_switch_and_bad_value_are_clear_errors():
    before = get_cpu_kernels()
    with pytest.raises(KeyError) as info:
        set_cpu_kernels(winogard=False)
    text = str(info.value)
    assert "'winogard'" in text and ', '.join(ALL) in text
    assert not text.startswith('"')  # the message itself, not its repr
    with pytest.raises(UnknownSwitchError, match='valid ones'):
        with cpu_kernels(numba=False, nope=True):
            pass
    with pytest.raises(TypeError, match='winograd must be True or False'):
        set_cpu_kernels(winograd=0)
    assert get_cpu_kernels() is before


def test_the_kernels_follow_the_switches():
    """Each kernel module reads its switch at call time (switched off,
    none compiles anything)."""
    # by module name: the packages re-export functions of the same names
    (direct_conv, fast_training, grouped_conv, ruas_kernels, separable_filter,
     tap_product_conv, winograd_conv) = (
        importlib.import_module(f'mmfusenas.cpu_ops.{name}')
        for name in ('direct_conv', 'fast_training', 'grouped_conv',
                     'ruas_kernels', 'separable_filter', 'tap_product_conv',
                     'winograd_conv'))
    fmi, fusion_kernels = (
        importlib.import_module(f'mmfusenas.evaluation.functional.{name}')
        for name in ('fmi', 'fusion_kernels'))
    with cpu_kernels(numba=False):
        for kernels in (winograd_conv._kernels, direct_conv._kernel,
                        grouped_conv._kernels, separable_filter._kernels,
                        fast_training._kernel, ruas_kernels.ruas_kernels,
                        fmi._kernels, fusion_kernels.kernels):
            assert kernels() is None, kernels
    for switch, kernels in (('winograd', winograd_conv._kernels),
                            ('direct_conv', direct_conv._kernel),
                            ('grouped_conv', grouped_conv._kernels),
                            ('separable_filter', separable_filter._kernels)):
        with cpu_kernels(**{switch: False}):
            assert kernels() is None, switch
    x = torch.rand(1, 8, 4, 4).contiguous(memory_format=torch.channels_last)
    assert fast_training.paired_products_ok(x)
    with cpu_kernels(paired_products=False):
        assert not fast_training.paired_products_ok(x)
    conv = torch.nn.Conv2d(32, 1, 3, padding=1)
    shape = (1, 32, 128, 128)
    with cpu_kernels(tap_products=False):
        assert not tap_product_conv.tap_product_ok(conv, shape)
    assert tap_product_conv.tap_product_ok(conv, shape)


# ---------------------------------------------------------- the config key
def test_apply_cpu_kernels_cfg():
    before = get_cpu_kernels()
    assert apply_cpu_kernels_cfg(Config(dict(model=None))) is None
    assert apply_cpu_kernels_cfg(dict(cpu_kernels=None)) is None
    assert apply_cpu_kernels_cfg(None) is None
    assert get_cpu_kernels() is before
    assert apply_cpu_kernels_cfg(
        Config(dict(cpu_kernels=dict(winograd=False)))) is before
    assert not get_cpu_kernels().winograd and get_cpu_kernels().numba
    with pytest.raises(KeyError, match="config key cpu_kernels: unknown "
                       "switch 'winogard'; the valid ones are numba, "):
        apply_cpu_kernels_cfg(dict(cpu_kernels=dict(winogard=False)))
    with pytest.raises(TypeError, match='must be a dict'):
        apply_cpu_kernels_cfg(dict(cpu_kernels=['winograd']))


def test_the_runner_build_applies_the_key(tmp_path, monkeypatch):
    from mmengine.model import BaseModel

    from mmfusenas.engine.runner import ReliableRunner, build_runner
    from mmfusenas.engine.runner import reliable_runner

    class Tiny(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return self.linear(inputs)

    cfg = Config(dict(cpu_kernels=dict(direct_conv=False,
                                       channels_last=False)))
    runner = ReliableRunner(model=Tiny(), work_dir=str(tmp_path / 'a'),
                            default_scope='mmfusenas', cfg=cfg)
    runner.release_work_dir()
    now = get_cpu_kernels()
    assert not now.direct_conv and not now.channels_last and now.winograd
    # a misspelt switch stops the build before anything is written
    with pytest.raises(KeyError, match="'direkt_conv'"):
        ReliableRunner(model=Tiny(), work_dir=str(tmp_path / 'b'),
                       default_scope='mmfusenas',
                       cfg=Config(dict(cpu_kernels=dict(direkt_conv=False))))
    assert not osp.exists(tmp_path / 'b')
    # MMEngine's plain runner (no runner_type) gets the switches too
    monkeypatch.setattr(reliable_runner.Runner, 'from_cfg',
                        lambda cfg: get_cpu_kernels())
    got = build_runner(Config(dict(cpu_kernels=dict(winograd=False))))
    assert not got.winograd and not got.direct_conv


def _runner_args(options):
    return argparse.Namespace(
        config=TOY, cfg_options=options, launcher='none', local_rank=0,
        work_dir=None, data_root=None)


def test_cfg_options_name_the_switches(capsys):
    """``--cfg-options cpu_kernels.<switch>=False`` is accepted without a
    warning (the key need not be in the config); a misspelt switch or a
    value that is no bool is refused naming it, before anything is built;
    loading the config applies nothing (the runner build does)."""
    from mmfusenas.utils.config import load_runner_config
    before = get_cpu_kernels()
    cfg = load_runner_config(_runner_args({'cpu_kernels.winograd': False}))
    assert cfg.cpu_kernels == dict(winograd=False)
    assert 'not in the config' not in capsys.readouterr().out
    assert get_cpu_kernels() is before
    with pytest.raises(KeyError, match="'winogard' is no CPU kernel switch; "
                       'the valid ones are numba, winograd'):
        load_runner_config(_runner_args({'cpu_kernels.winogard': False}))
    with pytest.raises(KeyError, match='winograd must be True or False'):
        load_runner_config(_runner_args({'cpu_kernels.winograd': 0}))


def test_config_file_with_a_misspelt_switch_is_refused(tmp_path):
    from mmfusenas.utils.config import load_runner_config
    path = tmp_path / 'bad.py'
    path.write_text(f"_base_ = ['{TOY}']\n"
                    'cpu_kernels = dict(tap_product=False)\n')
    args = _runner_args(None)
    args.config = str(path)
    with pytest.raises(KeyError, match=r"bad\.py: .*'tap_product'.*"
                       'the valid ones are'):
        load_runner_config(args)


def test_init_model_applies_the_key():
    from mmfusenas.apis import init_model
    before = get_cpu_kernels()
    init_model(TOY)
    assert get_cpu_kernels() is before
    init_model(TOY, cfg_options={'cpu_kernels.commuted_upsampling': False})
    assert not get_cpu_kernels().commuted_upsampling
    with pytest.raises(KeyError, match="'commuted_upsamplin'"):
        init_model(TOY, cfg_options={'cpu_kernels.commuted_upsamplin': False})


# ------------------------------------------------- no environment switches
def _package_sources():
    return sorted(glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True))


def test_at_most_three_environment_variables_remain():
    """The package reads at most three ``MMFUSENAS_*`` environment
    variables (each documented with why it is not a config option); the
    kernel switches are none of them."""
    names = set()
    for path in _package_sources():
        with open(path, encoding='utf-8') as f:
            names.update(re.findall(r'MMFUSENAS_[A-Z0-9_]+', f.read()))
    assert len(names) <= 3, sorted(names)
    assert not any(n.startswith('MMFUSENAS_NO_') for n in names), names


def test_models_read_no_environment():
    found = []
    for path in _package_sources():
        rel = osp.relpath(path, ROOT)
        if not rel.startswith(osp.join('mmfusenas', 'models') + osp.sep):
            continue
        with open(path, encoding='utf-8') as f:
            for number, line in enumerate(f, 1):
                if re.search(r'os\.environ|os\.getenv|getenv\(', line):
                    found.append(f'{rel}:{number}: {line.strip()}')
    assert found == []
