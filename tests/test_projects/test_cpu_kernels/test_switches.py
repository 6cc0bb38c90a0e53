"""The CPU kernel switches (cpu_kernels.switches): defaults, the
context manager, the errors, and the kernels following them."""
import dataclasses
import glob
import importlib
import os.path as osp

import pytest
import torch

from helpers import REPO_ROOT

import cpu_kernels.switches as ck_module
from cpu_kernels.switches import (SWITCHES, CpuKernels, UnknownSwitchError,
                                  cpu_kernels, get_cpu_kernels,
                                  set_cpu_kernels)

ROOT = REPO_ROOT
PACKAGE = osp.join(ROOT, 'mmfusenas')
ALL = ('numba', 'winograd', 'direct_conv', 'grouped_conv', 'tap_products',
       'paired_products', 'separable_filter', 'channels_last',
       'commuted_upsampling')
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
        importlib.import_module(f'cpu_kernels.{name}')
        for name in ('direct_conv', 'fast_training', 'grouped_conv',
                     'ruas_kernels', 'separable_filter', 'tap_product_conv',
                     'winograd_conv'))
    with cpu_kernels(numba=False):
        for kernels in (winograd_conv._kernels, direct_conv._kernel,
                        grouped_conv._kernels, separable_filter._kernels,
                        fast_training._kernel, ruas_kernels.ruas_kernels):
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


# ------------------------------------------------- no environment switches
def _package_sources():
    return sorted(glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True))
