"""A detector / segmentor backbone without pre-trained weights trains.

No weights ship and nothing downloads: a backbone whose ``init_cfg`` is not
``Pretrained`` starts from random values. mmdet's ``frozen_stages=1,
norm_eval=True`` (or a search's ``frozen_modules`` entry) would keep its stem,
early stages or all of it random, and its BatchNorm statistics fixed. Every
config under ``configs/`` is checked, the defaults read from the backbone
class (mmdet's ``ResNet``: ``frozen_stages=-1``, ``norm_eval=True``).
"""
import functools
import glob
import inspect
import os.path as osp

import mmdet.models  # noqa: F401  (registers the backbones)
import mmseg.models  # noqa: F401
import pytest
from mmengine.config import Config

import mmfusenas  # noqa: F401
from mmfusenas.registry import MODELS
from helpers.tools import REPO_ROOT

CONFIGS = sorted(
    osp.relpath(f, REPO_ROOT) for f in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True))

#: the scope a task model without ``_scope_`` is built in
TASK_SCOPES = dict(detector='mmdet', segmentor='mmseg')


def _backbones(node, path=(), scope='mmfusenas'):
    """(path, backbone dict, scope) of every ``backbone`` under ``node``."""
    if isinstance(node, dict):
        scope = node.get('_scope_', scope)
        for key, value in node.items():
            if key == 'backbone' and isinstance(value, dict):
                yield path + (key, ), value, scope
            yield from _backbones(value, path + (key, ),
                                  TASK_SCOPES.get(key, scope))
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _backbones(value, path, scope)


def _default(cls, name):
    """``name``'s default in the first ``__init__`` of ``cls``'s MRO that
    takes it."""
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        param = inspect.signature(init).parameters.get(name)
        if param is not None and param.default is not param.empty:
            return param.default
    return None


def _pretrained(backbone) -> bool:
    inits = backbone.get('init_cfg')
    inits = inits if isinstance(inits, (list, tuple)) else [inits]
    return isinstance(backbone.get('pretrained'), str) or any(
        isinstance(i, dict) and i.get('type') == 'Pretrained' for i in inits)


def frozen_scratch_backbones(model: dict) -> list:
    """What freezes each backbone without pre-trained weights in ``model``
    (a model config dict); empty when each one trains whole."""
    found = []
    frozen_modules = model.get('frozen_modules') or []
    for path, backbone, scope in _backbones(model):
        if _pretrained(backbone):
            continue
        name = '.'.join(path)
        btype = backbone['type']
        cls = MODELS.get(btype if '.' in btype else f'{scope}.{btype}')
        assert cls is not None, f'{name}: {btype!r} is not registered'
        for key, trained in (('frozen_stages', -1), ('norm_eval', False)):
            value = backbone.get(key, _default(cls, key))
            if value not in (trained, None):
                found.append(f'{name}.{key}={value!r}')
        # frozen_modules name sub-modules of the search's architecture
        rel = '.'.join(p for p in path if p != 'architecture')
        found += [
            f'frozen_modules: {m!r}' for m in frozen_modules
            if rel == m or rel.startswith(m + '.')
        ]
    return found


@functools.lru_cache(maxsize=None)
def _model(path: str) -> dict:
    return Config.fromfile(osp.join(REPO_ROOT,
                                    path)).to_dict().get('model') or {}


def test_the_check_reads_the_backbone_defaults():
    resnet = dict(type='ResNet', depth=18, init_cfg=None)
    det = dict(detector=dict(_scope_='mmdet', backbone=resnet))
    # mmdet's ResNet defaults to norm_eval=True
    assert frozen_scratch_backbones(det) == [
        'detector.backbone.norm_eval=True'
    ]
    resnet.update(frozen_stages=1, norm_eval=False)
    assert frozen_scratch_backbones(det) == [
        'detector.backbone.frozen_stages=1'
    ]
    resnet.update(frozen_stages=-1)
    assert frozen_scratch_backbones(det) == []
    search = dict(architecture=det, frozen_modules=['detector'])
    assert frozen_scratch_backbones(search) == ["frozen_modules: 'detector'"]
    # with ImageNet weights, mmdet's settings are fine
    resnet.update(
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/resnet18.pth'))
    assert frozen_scratch_backbones(search) == []
    # mmseg's ResNetV1c takes its defaults from mmseg's ResNet
    seg = dict(
        segmentor=dict(
            _scope_='mmseg', backbone=dict(type='ResNetV1c', depth=18)))
    assert frozen_scratch_backbones(seg) == []


def test_configs_with_backbones_are_found():
    with_backbone = [p for p in CONFIGS if any(_backbones(_model(p)))]
    assert len(with_backbone) > 40
    for path in ('configs/tim/search_retinanet_ivif.py',
                 'configs/tim/search_deeplabv3plus_r18_msrs.py',
                 'configs/compose/chain_retinanet_llvip.py',
                 'configs/_base_/models/fusion_ssd_r18.py'):
        assert path in with_backbone


@pytest.mark.parametrize('path', CONFIGS)
def test_scratch_backbones_are_trained(path):
    assert frozen_scratch_backbones(_model(path)) == [], (
        f'{path}: a backbone without pre-trained weights is frozen; with '
        "ImageNet weights in init_cfg mmdet's frozen_stages=1, "
        'norm_eval=True and frozen_modules fit')
