"""The night-time chain is defined once (configs/_base_/models/
chain_scene_fusion.py) and every compose config that uses it (the
registration chain takes its fusion stage) builds exactly the model it built
before the fold (goldens: the model config dicts, the
parameter counts and the state-dict shapes of the configs as they were,
tests/data/compose/chain_configs_before_fold.json)."""
import hashlib
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmfusenas  # noqa: F401  (registers the modules)
from mmfusenas.registry import MODELS
from helpers.tools import REPO_ROOT

GOLDEN = osp.join(REPO_ROOT, 'tests', 'data', 'compose',
                  'chain_configs_before_fold.json')
with open(GOLDEN) as f:
    BEFORE = json.load(f)


def _normalised(obj):
    """A stage's ``init=None`` is its default: the fold drops the explicit
    one the LLVIP base had."""
    if isinstance(obj, dict):
        return {
            k: _normalised(v)
            for k, v in obj.items()
            if not (k == 'init' and v is None and 'kind' in obj)
        }
    if isinstance(obj, (list, tuple)):
        return [_normalised(v) for v in obj]
    return obj


def _model_dict(name):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'compose', name))
    # through JSON as the goldens were written (tuples become lists)
    return cfg, json.loads(json.dumps(cfg.to_dict()['model'], default=str))


@pytest.mark.parametrize('name', sorted(BEFORE))
def test_config_builds_the_same_model_dict_as_before_the_fold(name):
    _, model = _model_dict(name)
    assert _normalised(model) == _normalised(BEFORE[name]['model'])


@pytest.mark.parametrize(
    'name', sorted(n for n in BEFORE if 'params' in BEFORE[n]))
def test_config_builds_the_same_network_as_before_the_fold(name):
    cfg, _ = _model_dict(name)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == \
        BEFORE[name]['params']
    shapes = [[k, list(v.shape)] for k, v in sorted(
        model.state_dict().items())]
    assert hashlib.sha1(json.dumps(shapes).encode()).hexdigest() == \
        BEFORE[name]['state_shapes_sha1']


def test_the_chain_is_defined_once():
    base = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                 'chain_scene_fusion.py'))
    stages = base.chain_model.chain_net.stages
    assert [s['name'] for s in stages] == ['scene', 'fusion']
    assert stages[1]['module'] is None  # set by the configs that use it
    toy, _ = _model_dict('chain_retinanet_night_toy.py')
    llvip, _ = _model_dict('chain_retinanet_llvip.py')
    # the two overrides: N_F's width and the detector
    assert toy.model.chain_net.stages[1].module.channels == 8
    assert llvip.model.chain_net.stages[1].module.channels == 48
    assert toy.model.detector.backbone.base_channels == 16
    assert llvip.model.detector.backbone.get('base_channels', 64) == 64
    for cfg in (toy, llvip):
        for got, want in zip(cfg.model.chain_net.stages, stages):
            assert {k: v for k, v in got.items() if k != 'module'} == \
                {k: v for k, v in want.items() if k != 'module'}
    # N_R in front of the same fusion stage, which reads the registered IR
    reg, _ = _model_dict('chain_registration_fusion_retinanet_toy.py')
    fusion = reg.model.chain_net.stages[1]
    assert fusion.inputs == ['ir_reg', 'vi:y']
    assert {k: v for k, v in fusion.items() if k not in ('module', 'inputs')} \
        == {k: v for k, v in stages[1].items()
            if k not in ('module', 'inputs')}
