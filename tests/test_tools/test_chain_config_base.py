"""The night-time chain is defined once (configs/_base_/models/
chain_scene_fusion.py) and every compose config that uses it (the
registration chain takes its fusion stage) builds exactly the model it built
before the fold (goldens: the model config dicts, the
parameter counts and the state-dict shapes of the configs as they were,
tests/data/compose/chain_configs_before_fold.json). One deliberate change
since: the registration chain's N_R is ImageRegistrator's (orientation
inputs, 3 channels into its first convolution: 144 more parameters), so that
a trained N_R initialises the stage; its golden entry says so.

The goldens keep the layout of their time, the stages inside a
``chain_net=dict(type='PreModuleChain', sources=..., stages=...)``; the
tests map it to the current one (:func:`_current_layout`, the stages and
sources at the model level, :func:`_old_state_key`) so that everything else
is still compared as stored."""
import hashlib
import json
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

import mmfusenas  # noqa: F401  (registers the modules)
from mmfusenas.models.compound import get_pre_task_model
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


def _current_layout(obj):
    """A golden model dict in the current layout: a ``chain_net`` (a
    ``PreModuleChain`` of ``sources`` and ``stages``) becomes the model's
    own ``sources`` / ``stages``; a genotype part
    ``'chain_net.stages.<i>.module'`` becomes ``'stages.<i>.module'``; a
    search part's path ``'chain_net.modules_.<stage>'`` becomes
    ``'<stage>_net'``."""
    if isinstance(obj, dict):
        out = {k: _current_layout(v) for k, v in obj.items()
               if k != 'chain_net'}
        if 'chain_net' in obj:
            chain = dict(obj['chain_net'])
            assert chain.pop('type') == 'PreModuleChain'
            assert set(chain) == {'sources', 'stages'}, sorted(chain)
            assert not set(chain) & set(out)
            out.update(_current_layout(chain))
        return out
    if isinstance(obj, (list, tuple)):
        return [_current_layout(v) for v in obj]
    if isinstance(obj, str):
        obj = re.sub(r'^chain_net\.stages\.(\d+)\.module$',
                     r'stages.\1.module', obj)
        return re.sub(r'^chain_net\.modules_\.(\w+)$', r'\1_net', obj)
    return obj


def _old_state_key(key, stages):
    """A state-dict key in the golden's layout: ``<s>_net.*`` /
    ``<s>_losses.*`` (possibly under ``architecture.``) were
    ``chain_net.modules_.<s>.*`` / ``chain_net.stage_losses.<s>.*``."""
    for name in stages:
        for new, old in ((f'{name}_net.', f'chain_net.modules_.{name}.'),
                         (f'{name}_losses.',
                          f'chain_net.stage_losses.{name}.')):
            head, found, rest = key.partition(new)
            if found and head in ('', 'architecture.'):
                return head + old + rest
    return key


def _model_dict(name):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'compose', name))
    # through JSON as the goldens were written (tuples become lists)
    return cfg, json.loads(json.dumps(cfg.to_dict()['model'], default=str))


@pytest.mark.parametrize('name', sorted(BEFORE))
def test_config_builds_the_same_model_dict_as_before_the_fold(name):
    _, model = _model_dict(name)
    assert _normalised(model) == _normalised(
        _current_layout(BEFORE[name]['model']))
    assert 'chain_net' not in json.dumps(model)


@pytest.mark.parametrize(
    'name', sorted(n for n in BEFORE if 'params' in BEFORE[n]))
def test_config_builds_the_same_network_as_before_the_fold(name):
    cfg, _ = _model_dict(name)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == \
        BEFORE[name]['params']
    stages = tuple(get_pre_task_model(model).stages)
    state = {_old_state_key(k, stages): v
             for k, v in model.state_dict().items()}
    assert len(state) == len(model.state_dict())
    shapes = [[k, list(v.shape)] for k, v in sorted(state.items())]
    assert hashlib.sha1(json.dumps(shapes).encode()).hexdigest() == \
        BEFORE[name]['state_shapes_sha1']


def test_the_chain_is_defined_once():
    base = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                 'chain_scene_fusion.py'))
    stages = base.chain_model.stages
    assert [s['name'] for s in stages] == ['scene', 'fusion']
    assert stages[1]['module'] is None  # set by the configs that use it
    toy, _ = _model_dict('chain_retinanet_night_toy.py')
    llvip, _ = _model_dict('chain_retinanet_llvip.py')
    # the two overrides: N_F's width and the detector
    assert toy.model.stages[1].module.channels == 8
    assert llvip.model.stages[1].module.channels == 48
    assert toy.model.detector.backbone.base_channels == 16
    assert llvip.model.detector.backbone.get('base_channels', 64) == 64
    for cfg in (toy, llvip):
        for got, want in zip(cfg.model.stages, stages):
            assert {k: v for k, v in got.items() if k != 'module'} == \
                {k: v for k, v in want.items() if k != 'module'}
    # N_R in front of the same fusion stage, which reads the registered IR
    reg, _ = _model_dict('chain_registration_fusion_retinanet_toy.py')
    fusion = reg.model.stages[1]
    assert fusion.inputs == ['ir_reg', 'vi:y']
    assert {k: v for k, v in fusion.items() if k not in ('module', 'inputs')} \
        == {k: v for k, v in stages[1].items()
            if k not in ('module', 'inputs')}
