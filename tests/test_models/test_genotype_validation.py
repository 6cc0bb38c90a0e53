"""Genotype files are validated against their search space: an edited cell
with 3 or 1 ops, a choice naming a non-existent op (``BogusOp``), unknown or
missing keys are refused with the file and the problem named (before the
fix they built and trained)."""
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config

from mmfusenas.models.mutables import Genotype
from mmfusenas.models.mutables.genotype import space_keys, validate_genotype
from mmfusenas.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def tim_space():
    """TIM's search space of configs/_base_/models/tim_search_space.py,
    narrowed to 8 channels."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models',
                 'tim_search_space.py'))
    space = cfg.tim_search_space.to_dict()
    space['channels'] = 8
    return space


def tim_choices(space, cell='sc', op='DilConv_3_2'):
    choices = {}
    for key in space_keys(space):
        choices[key] = cell if '/' not in key else op
    return choices


def export(space, tmp_path, name='g.yaml', **kw):
    geno = Genotype.from_space(space, tim_choices(space, **kw))
    path = str(tmp_path / name)
    geno.dump(path)
    return path


def edit(path, fn):
    with open(path) as f:
        data = yaml.safe_load(f)
    fn(data)
    with open(path, 'w') as f:
        yaml.safe_dump(data, f)


def test_space_keys_of_the_tim_space(tim_space):
    keys = space_keys(tim_space)
    assert len(keys) == 14  # 2 positions + 2 * 3 cells * 2 edges
    assert {'cell0', 'cell1', 'cell0/sc/op0', 'cell1/dc/op1'} <= keys


def test_valid_file_round_trips_and_builds(tim_space, tmp_path):
    path = export(tim_space, tmp_path)
    geno = Genotype.load(path)
    assert geno.space == tim_space
    assert geno.network['cells'][0] == dict(
        type='SuccessiveCell', ops=['DilConv_3_2', 'DilConv_3_2'])
    torch.manual_seed(0)
    a = MODELS.build(dict(type='GenotypeNet', genotype=path))
    b = MODELS.build(dict(type='GenotypeNet', genotype=path,
                          space=tim_space))
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    x = torch.rand(1, 2, 16, 16)
    assert torch.equal(a(x), b(x))


@pytest.mark.parametrize('ops', [
    ['DilConv_3_2', 'DilConv_3_2', 'DilConv_3_2'],
    ['DilConv_3_2'],
])
def test_cell_with_wrong_op_count_is_refused(tim_space, tmp_path, ops):
    path = export(tim_space, tmp_path)

    def three_or_one(data):
        data['network']['cells'][0]['ops'] = ops

    edit(path, three_or_one)
    with pytest.raises(ValueError) as info:
        Genotype.load(path)
    msg = str(info.value)
    assert path in msg
    assert f'network.cells.0.ops: {len(ops)} entries, the space gives 2' \
        in msg


def test_choice_of_a_non_existent_op_is_refused(tim_space, tmp_path):
    path = export(tim_space, tmp_path)
    edit(path, lambda d: d['choices'].update({'cell0/sc/op1': 'BogusOp'}))
    with pytest.raises(ValueError,
                       match=r"g\.yaml: genotype chooses 'BogusOp' for "
                       r"'cell0/sc/op1', which is not one of its candidates "
                       r"\['Denseblocks_3_1'"):
        Genotype.load(path)
    # and the same op in the network only
    path = export(tim_space, tmp_path, 'h.yaml')
    edit(path, lambda d: d['network']['cells'][1]['ops'].__setitem__(
        0, 'BogusOp'))
    with pytest.raises(ValueError,
                       match=r"network\.cells\.1\.ops\.0: 'BogusOp', the "
                       r"space gives 'DilConv_3_2'"):
        Genotype.load(path)


def test_unknown_and_missing_keys_are_refused(tim_space, tmp_path):
    path = export(tim_space, tmp_path)
    edit(path, lambda d: d['choices'].update({'cell0/sc/op7': 'DilConv_3_2'}))
    with pytest.raises(KeyError, match=r"not in the search space: "
                       r"\['cell0/sc/op7'\].*cell0/sc/op"):
        Genotype.load(path)
    path = export(tim_space, tmp_path, 'h.yaml')
    edit(path, lambda d: d['choices'].pop('cell1/sc/op0'))
    with pytest.raises(KeyError, match=r"h\.yaml: genotype has no choice for "
                       r"the architecture key 'cell1/sc/op0'"):
        Genotype.load(path)
    with pytest.raises(KeyError, match='cell9'):
        validate_genotype(tim_space, dict(tim_choices(tim_space), cell9='sc'))


def test_an_explicit_space_is_checked_too(tim_space, tmp_path):
    """GenotypeNet(space=...) checks a file without a recorded space."""
    path = export(tim_space, tmp_path)
    edit(path, lambda d: (d.pop('space'), d['network']['cells'][0].update(
        ops=['DilConv_3_2'])))
    Genotype.load(path)  # no space recorded: format checks only
    with pytest.raises(ValueError, match='1 entries, the space gives 2'):
        MODELS.build(dict(type='GenotypeNet', genotype=path, space=tim_space))


def test_unknown_op_on_every_edge_names_file_path_and_suggestion(
        tim_space, tmp_path):
    """A misspelt op replaced everywhere (choices, network and the recorded
    space alike) passed validation and failed only while the network was
    built, naming neither the file nor the key."""
    path = export(tim_space, tmp_path)
    with open(path) as f:
        text = f.read()
    with open(path, 'w') as f:
        f.write(text.replace('DilConv_3_2', 'DilConvv_3_2'))
    with pytest.raises(ValueError) as info:
        Genotype.load(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: unknown operator(s) 'DilConvv_3_2' "
                          "(did you mean 'DilConv_3_2'")
    assert "space key 'cell0/sc/op0' candidate 'DilConvv_3_2'" in msg
    assert 'network.cells.0.ops.0' in msg
    # a file without a recorded space: its network's ops are checked
    edit(path, lambda d: d.pop('space'))
    with pytest.raises(ValueError,
                       match=r"g\.yaml: unknown operator\(s\) 'DilConvv_3_2' "
                       r"\(did you mean 'DilConv_3_2'.*\) at "
                       r'network\.cells\.0\.ops\.0, network\.cells\.0\.ops'
                       r'\.1, network\.cells\.1\.ops\.0'):
        MODELS.build(dict(type='GenotypeNet', genotype=path))
