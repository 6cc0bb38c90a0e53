"""Plain by default: building the runner of a shipped training config
leaves every module of the model the class it was built with, with its
parameters in their own memory layout, on whatever device (no speed
transform unless the config names one, e.g. the plugin's
``CpuKernelsHook``)."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.registry import init_default_scope

from mmfusenas.engine.runner import build_runner
from mmfusenas.registry import MODELS
from helpers import REPO_ROOT
from mmfusenas.utils import register_all_modules


def _training_configs():
    out = []
    for path in sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                                 recursive=True)):
        rel = osp.relpath(path, REPO_ROOT)
        if '_base_' in rel.split(osp.sep):
            continue
        cfg = Config.fromfile(path)
        if cfg.get('train_cfg') and cfg.get('train_dataloader'):
            out.append(rel)
    return out


TRAINING = _training_configs()


def test_the_configs_are_found():
    assert len(TRAINING) > 100
    assert 'configs/tim/retinanet_ivif_toy.py' in TRAINING


def _layout(model):
    return ({n: type(m) for n, m in model.named_modules()},
            {n: (p.device.type, p.stride()) for n, p in
             model.named_parameters()})


@pytest.mark.parametrize('path', TRAINING)
def test_the_runner_keeps_the_model_as_built(path, tmp_path):
    register_all_modules()
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    assert 'cpu_kernel_transform' not in cfg
    init_default_scope(cfg.get('default_scope', 'mmfusenas'))
    torch.manual_seed(0)
    try:
        built = MODELS.build(copy.deepcopy(cfg.model))
    except FileNotFoundError as err:  # a retraining needs its search first
        pytest.skip(f'{path} builds on an earlier run or weights file: {err}')
    cfg.work_dir = str(tmp_path)
    cfg.load_from = None
    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    classes, params = _layout(model)
    want_classes, want_params = _layout(built.to(
        next(model.parameters()).device))
    assert classes == want_classes
    assert params == want_params
