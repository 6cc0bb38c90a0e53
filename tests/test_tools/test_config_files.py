"""Every shipped config parses, names a registered model and passes the key
and type checks of the opt-in tools/misc/check_config.py; each is parsed
once for all checks.

A config that cannot be read fails only when a user runs it; this test runs
them all. (It found ``configs/hbl/train_hbl_official_lol.py``, whose dict
``loss_weights`` could not inherit the base's string — it needed
``_delete_``.)
"""
import functools
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import mmfusenas  # noqa: F401  (registers the modules)
from mmfusenas.registry import MODELS
from helpers.tools import REPO_ROOT, load_tool
from mmfusenas.utils import register_all_modules

#: the opt-in linter's checks (tools/misc/check_config.py)
CHECK = load_tool('tools/misc/check_config.py')
check_config_keys, check_config_types = (CHECK.check_config_keys,
                                         CHECK.check_config_types)

CONFIGS = sorted(
    osp.relpath(f, REPO_ROOT)
    for f in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                       recursive=True)
    if '_base_' not in osp.relpath(f, REPO_ROOT).split(osp.sep))


def test_configs_are_found():
    assert len(CONFIGS) > 100
    assert 'configs/hbl/train_hbl_official_lol.py' in CONFIGS


@functools.lru_cache(maxsize=None)
def _parsed(path: str) -> Config:
    """The parsed config (read-only here: the checks only look)."""
    return Config.fromfile(osp.join(REPO_ROOT, path))


@pytest.mark.parametrize('path', CONFIGS)
def test_config_parses_and_names_a_registered_model(path):
    cfg = _parsed(path)
    assert 'model' in cfg, f'{path}: no top-level model'
    assert MODELS.get(cfg.model['type']) is not None, (
        f'{path}: model type {cfg.model["type"]!r} is not registered')
    assert '_delete_' not in repr(cfg._cfg_dict.to_dict()), (
        f'{path}: a _delete_ key survived the merge')


@pytest.mark.parametrize('path', CONFIGS)
def test_config_passes_the_key_check(path):
    """No false alarm: the configs' own variables (``arch_dataloader``,
    ``search_val_dataloader``, ``train_pipeline``, ...) are not typos."""
    register_all_modules()
    check_config_keys(_parsed(path))


@pytest.mark.parametrize('path', CONFIGS)
def test_config_passes_the_type_check(path):
    """No false alarm: every ``type`` of every shipped config is found in
    the registries of its scopes (or names an mmcv.ops NMS / RoI layer, a
    kernel source or an importable path), so a misspelt type is the only
    thing the check refuses."""
    check_config_types(_parsed(path))


def test_hbl_official_recipe_replaces_the_searched_inputs():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/hbl/train_hbl_official_lol.py'))
    assert cfg.model.network['type'] == 'HBLNet'
    assert 'genotype' not in cfg.model.network
    assert cfg.model.loss_weights == dict(
        loss_l1=1.38, loss_l2=1.28, loss_color=0.82, loss_ssim=1.23,
        loss_vgg=0.49, loss_lpips=0.74, loss_tv=0.0, loss_lap=0.0)
    # the training recipe is still the base's (official train.py)
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=5e-4, momentum=0.9, weight_decay=3e-4)


def test_the_amp_joint_model_differs_from_the_headline_in_precision_only():
    base = _parsed('configs/tim/retinanet_ivif_msrs_c8.py').to_dict()
    amp = _parsed('configs/tim/retinanet_ivif_msrs_c8_amp.py').to_dict()
    assert {k for k in set(base) | set(amp)
            if base.get(k) != amp.get(k)} == {'optim_wrapper'}
    # what tools/train.py --amp sets (mmdet's float16 with a dynamic scale)
    assert amp['optim_wrapper'] == dict(
        base['optim_wrapper'], type='AmpOptimWrapper', loss_scale='dynamic')
