"""The compound models' state-dict layout: one name per stage part, and
checkpoints of the earlier layout (the stages inside a ``chain_net`` child)
loading through the key map of ``BasePreTaskModel._load_from_state_dict``.

``tests/data/compound/state_dict_keys_before_stages.json`` holds, per
compound config, the keys and shapes of its pre-modules' state dict as the
earlier layout wrote them (and the task model's keys as a count and a
hash), recorded before the change.
"""
import hashlib
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmfusenas.registry import MODELS
from helpers import REPO_ROOT

MANIFEST = osp.join(REPO_ROOT, 'tests', 'data', 'compound',
                    'state_dict_keys_before_stages.json')
with open(MANIFEST) as f:
    BEFORE = {k: v for k, v in json.load(f).items() if not k.startswith('_')}
CONFIGS = sorted(BEFORE)


def new_key(old: str) -> str:
    """Where a key of the earlier layout lives now, written out by hand."""
    for head, part in (('chain_net.modules_.', 'net'),
                       ('chain_net.stage_losses.', 'losses')):
        if old.startswith(head):
            stage, _, rest = old[len(head):].partition('.')
            return f'{stage}_{part}.{rest}'
    return old


#: settings changed since the manifest was recorded, set back as they were
#: there (the registration chain's N_R then read intensities: 2 channels
#: into its first convolution, 3 with the orientation inputs it has now)
AS_RECORDED = {
    'configs/compose/chain_registration_fusion_retinanet_toy.py': {
        'model.stages.0.module.inputs': 'intensity',
        'model.stages.0.module.flow_bound': None},
}


def build(config: str):
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    cfg.merge_from_dict(AS_RECORDED.get(config, {}))
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def old_checkpoint(config: str, model) -> dict:
    """A state dict in the earlier layout: the pre-modules' recorded keys
    with seeded values of their recorded shapes (integer buffers as
    integers), the task model's own entries."""
    record, current = BEFORE[config], model.state_dict()
    g = torch.Generator().manual_seed(1)
    state = {}
    for key, shape in record['pre'].items():
        like = current[new_key(key)]
        value = torch.randn(shape, generator=g)
        state[key] = value.to(like.dtype) if like.is_floating_point() else \
            torch.randint(0, 7, shape, generator=g).to(like.dtype)
    task = sorted(k for k in current if k not in {
        new_key(x) for x in record['pre']})
    assert len(task) == record['task_keys']
    assert hashlib.sha256('\n'.join(task).encode()).hexdigest() == \
        record['task_sha256']
    state.update({k: current[k].clone() for k in task})
    return state


@pytest.mark.parametrize('config', CONFIGS)
def test_each_stage_part_has_one_name(config):
    """Every pre-module key is the recorded one (single-stage models:
    unchanged) or its ``<stage>_net`` / ``<stage>_losses`` form (chains);
    each stage's network is reachable under one name only."""
    model = build(config)
    keys = set(model.state_dict())
    pre = {new_key(k) for k in BEFORE[config]['pre']}
    assert pre <= keys and not any(k.startswith('chain_net') for k in keys)
    names = {}
    for name, module in model.named_modules(remove_duplicate=False):
        names.setdefault(id(module), []).append(name)
    for stage in model.stages:
        assert names[id(model.stage(stage))] == [f'{stage}_net']
        assert names[id(getattr(model, f'{stage}_losses'))] == [
            f'{stage}_losses']
    if BEFORE[config]['type'] not in ('ChainDetector', 'ChainSegmentor'):
        assert pre == set(BEFORE[config]['pre'])


@pytest.mark.parametrize('config', CONFIGS)
def test_a_checkpoint_of_the_earlier_layout_loads_strictly(config):
    """Loaded with strict keys, every entry of an earlier-layout state dict
    lands on the key :func:`new_key` names, value for value."""
    model = build(config)
    state = old_checkpoint(config, model)
    result = model.load_state_dict(dict(state), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    now = model.state_dict()
    assert len(now) == len(state)
    for key, value in state.items():
        assert torch.equal(now[new_key(key)], value), key


def test_the_runner_path_maps_an_earlier_chain_checkpoint(tmp_path):
    """MMEngine's ``load_checkpoint`` (``load_from``, ``tools/test.py``)
    takes a chain checkpoint file of the earlier layout, strictly, also
    under a search algorithm's ``architecture.`` prefix."""
    config = 'configs/compose/chain_retinanet_night_toy.py'
    model = build(config)
    state = old_checkpoint(config, model)
    path = tmp_path / 'old_chain.pth'
    torch.save(dict(state_dict=state, meta={}), path)
    load_checkpoint(model, str(path), strict=True)
    now = model.state_dict()
    old = 'chain_net.modules_.fusion.stem.0.conv.weight'
    assert old in state and torch.equal(now[new_key(old)], state[old])
    wrapper = torch.nn.Module()
    wrapper.architecture = build(config)
    wrapper.load_state_dict({f'architecture.{k}': v
                             for k, v in state.items()}, strict=True)
    assert torch.equal(wrapper.architecture.fusion_net.stem[0].conv.weight,
                       state[old])


def test_the_committed_fusion_checkpoint_inits_a_fusion_stage():
    """``checkpoints/tim_c8_msrs_fusion.pth`` (an ``ImageFusor`` checkpoint)
    initialises the N_F of the headline ``FusionDetector`` and the fusion
    stage of a chain alike, strictly."""
    ckpt = osp.join(REPO_ROOT, 'checkpoints', 'tim_c8_msrs_fusion.pth')
    saved = torch.load(ckpt, map_location='cpu', weights_only=True)
    saved = {k[len('fusion_net.'):]: v
             for k, v in saved['state_dict'].items()
             if k.startswith('fusion_net.')}
    headline = build('configs/tim/retinanet_ivif_msrs_c8.py')
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/compose/chain_retinanet_night_toy.py'))
    cfg.model.stages[1].init = ckpt
    torch.manual_seed(0)
    chain = MODELS.build(cfg.model)
    for model in (headline, chain):
        model.init_weights()
        net = model.stage('fusion')
        assert net is model.fusion_net
        got = net.state_dict()
        assert set(got) == set(saved)
        for key, value in saved.items():
            assert torch.equal(got[key], value), key
