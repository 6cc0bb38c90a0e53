"""Mutables, architecture parameters and genotype export / rebuild."""
import re

import pytest
import torch

from mmfusenas.models.mutables import (ArchParams, DiffMixedOp, Genotype,
                                       bind_arch_params, derive_choices,
                                       fix_space_cfg)
from mmfusenas.registry import MODELS

OPS = ['Residualblocks_3_1', 'DilConv_3_2', 'SPAattention_3']


def op(key, candidates=OPS):
    return dict(type='DiffMixedOp', key=key, candidates=list(candidates))


def two_level_space(channels=8):
    """Which cell at position 0 (and which op on each edge); ops of cell 1."""
    return dict(
        type='TIMFusionNet',
        channels=channels,
        cells=[
            dict(
                type='DiffMixedOp',
                key='cell0',
                candidates=dict(
                    ms=dict(
                        type='MultiScaleFusionCell',
                        ops=[op('cell0/ms/op0'),
                             op('cell0/ms/op1')]),
                    sc=dict(
                        type='SuccessiveCell',
                        ops=[op('cell0/sc/op0'),
                             op('cell0/sc/op1')]))),
            dict(type='SuccessiveCell', ops=[op('cell1/op0'),
                                             op('cell1/op1')]),
        ])


def test_mixed_op_is_softmax_weighted_sum_of_candidates():
    torch.manual_seed(0)
    mixed = DiffMixedOp('e', OPS, channels=4)
    arch = ArchParams()
    bind_arch_params(mixed, arch)
    with torch.no_grad():
        arch.alphas['e'].copy_(torch.tensor([0.5, -1.0, 2.0]))
    x = torch.randn(2, 4, 8, 8)
    w = torch.softmax(torch.tensor([0.5, -1.0, 2.0]), 0)
    expected = sum(w[i] * mixed.candidates[i](x) for i in range(3))
    torch.testing.assert_close(mixed(x), expected)
    assert mixed.derive() == 'SPAattention_3'
    # gradient reaches alpha only through the container
    mixed(x).sum().backward()
    assert arch.alphas['e'].grad.abs().sum() > 0
    assert all('alpha' not in n for n, _ in mixed.named_parameters())


def test_unbound_and_inconsistent_shared_keys_are_errors():
    mixed = DiffMixedOp('e', OPS, channels=4)
    with pytest.raises(RuntimeError, match="'e' is not bound"):
        mixed(torch.zeros(1, 4, 4, 4))
    arch = ArchParams()
    arch.register('e', OPS)
    with pytest.raises(ValueError, match='same candidates'):
        arch.register('e', OPS[:2])
    with pytest.raises(ValueError, match="without '.'"):
        arch.register('a.b', OPS)
    with pytest.raises(TypeError, match='candidates'):
        DiffMixedOp('x', [dict(type='SkipConnect')], channels=4)


def test_shared_alias_across_widths_uses_one_alpha():
    net = MODELS.build(
        dict(type='MultiScaleFusionCell', channels=4, ops=[op('s0'),
                                                           op('s1')]))
    arch = ArchParams()
    assert bind_arch_params(net, arch) == ['s0', 's1']
    # the multi-scale cell builds each edge at C, 2C and 4C: 6 mixed ops
    mixed = [m for m in net.modules() if isinstance(m, DiffMixedOp)]
    assert len(mixed) == 6 and len(list(arch.parameters())) == 2


def test_two_level_space_derive_export_rebuild_round_trip(tmp_path):
    torch.manual_seed(0)
    space = two_level_space()
    supernet = MODELS.build(space)
    arch = ArchParams()
    bind_arch_params(supernet, arch)
    picks = {
        'cell0': 'sc',
        'cell0/sc/op0': 'DilConv_3_2',
        'cell0/sc/op1': 'SPAattention_3',
        'cell1/op0': 'Residualblocks_3_1',
        'cell1/op1': 'DilConv_3_2'
    }
    with torch.no_grad():
        for key, name in picks.items():
            arch.alphas[key][arch.choices(key).index(name)] += 1.0
    choices = derive_choices(supernet)
    assert {k: choices[k] for k in picks} == picks
    geno = Genotype.from_space(
        space, choices, probabilities=arch.probabilities(), meta=dict(it=3))
    assert geno.network['cells'] == [
        dict(type='SuccessiveCell', ops=['DilConv_3_2', 'SPAattention_3']),
        dict(
            type='SuccessiveCell',
            ops=['Residualblocks_3_1', 'DilConv_3_2'])
    ]
    for name in ('g.yaml', 'g.json'):
        path = str(tmp_path / name)
        geno.dump(path)
        loaded = Genotype.load(path)
        assert loaded.choices == choices and loaded.meta == dict(it=3)
        direct = MODELS.build(fix_space_cfg(space, choices))
        rebuilt = MODELS.build(
            dict(type='GenotypeNet', genotype=path, space=space))
        rebuilt.load_state_dict(direct.state_dict())
        direct.eval(), rebuilt.eval()
        x = torch.rand(2, 2, 16, 16)
        assert torch.equal(direct(x), rebuilt(x))


def test_one_candidate_supernet_equals_its_fixed_network():
    # with a single candidate per choice point the supernet computes exactly
    # the fixed network, so the weights map one to one
    space = dict(
        type='TIMFusionNet',
        channels=8,
        cells=[
            dict(
                type='SuccessiveCell',
                ops=[
                    op('a', ['Denseblocks_3_1']),
                    op('b', ['ECAattention_3'])
                ])
        ])
    supernet = MODELS.build(space)
    bind_arch_params(supernet, ArchParams())
    fixed = MODELS.build(fix_space_cfg(space, dict(a='Denseblocks_3_1',
                                                   b='ECAattention_3')))
    state = {
        k.replace('.candidates.0', ''): v
        for k, v in supernet.state_dict().items()
    }
    fixed.load_state_dict(state)
    x = torch.rand(1, 2, 12, 12)
    supernet.eval(), fixed.eval()
    torch.testing.assert_close(supernet(x), fixed(x))


def test_invalid_genotypes_are_reported(tmp_path):
    space = two_level_space()
    with pytest.raises(KeyError, match="'cell1/op0'"):
        fix_space_cfg(space, {'cell0': 'sc', 'cell0/sc/op0': OPS[0],
                              'cell0/sc/op1': OPS[0]})
    with pytest.raises(ValueError, match="'bogus' for 'cell0'"):
        fix_space_cfg(space, {'cell0': 'bogus'})
    bad = tmp_path / 'bad.yaml'
    bad.write_text('format: something-else\n')
    with pytest.raises(ValueError, match='not a genotype file'):
        Genotype.load(str(bad))
    bad.write_text('format: mmfusenas-genotype/1\nchoices: {a: 3}\n'
                   'network: {type: X}\n')
    with pytest.raises(ValueError, match='candidate names'):
        Genotype.load(str(bad))
    with pytest.raises(FileNotFoundError, match='nope.yaml'):
        Genotype.load(str(tmp_path / 'nope.yaml'))
    with pytest.raises(ValueError, match='.yaml, .yml or .json'):
        Genotype({}, dict(type='X')).dump(str(tmp_path / 'g.txt'))


@pytest.mark.parametrize('body,message', [
    ('probabilities: 5', "'probabilities' must be a mapping, got int"),
    ("meta: 'm'", "'meta' must be a mapping, got str"),
    ('space: [1]', "'space' must be a mapping, got list"),
    ('choices: {1: a}', r'choices must map keys \(strings\) to candidate '
     r"names \(strings\); bad entries \{1: 'a'\}"),
    ('choices: {a: x, a: y}', 'is not valid YAML/JSON: duplicate key \'a\''
     '\n  in ".*g.yaml", line 2, column 17'),
])
def test_genotype_file_types_and_duplicate_keys_are_named(tmp_path, body,
                                                          message):
    path = tmp_path / 'g.yaml'
    if not body.startswith('choices'):
        body = 'choices: {a: x}\n' + body
    path.write_text('format: mmfusenas-genotype/1\n'
                    f'{body}\nnetwork: {{type: X}}\n')
    with pytest.raises(ValueError, match=f'{re.escape(str(path))}.*{message}'):
        Genotype.load(str(path))


def test_unregistered_network_type_names_the_genotype_file(tmp_path):
    path = str(tmp_path / 'g.yaml')
    Genotype({}, dict(type='NoSuchNet')).dump(path)
    with pytest.raises(KeyError, match=f"{re.escape(path)}: network "
                       "'NoSuchNet': NoSuchNet is not in the mmfusenas::model "
                       'registry'):
        MODELS.build(dict(type='GenotypeNet', genotype=path))


def test_arch_params_checkpoint_round_trip():
    arch = ArchParams()
    arch.register('k', OPS)
    state = arch.state_dict()
    other = ArchParams()
    other.register('k', OPS)
    other.load_state_dict(state)
    assert torch.equal(other.alphas['k'], arch.alphas['k'])
    wrong = ArchParams()
    wrong.register('k', ['a', 'b', 'c'])
    with pytest.raises(ValueError, match="candidates"):
        wrong.load_state_dict(state)
