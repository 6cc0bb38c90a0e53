"""Hard budgets of the search regularisers: an impossible budget stops the
search at the first α step; a feasible one is met by the derived genotype
(the cheapest swaps by probability lost per unit of cost)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmfusenas.engine import BilevelOptimWrapperConstructor
from mmfusenas.registry import MODELS
from mmfusenas.search.estimators import ResourceConstraintError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OPS = ['DilConv_3_2', 'skip']


def op(key):
    return dict(type='DiffMixedOp', key=key, candidates=list(OPS))


def build(budget, cells=None):
    torch.manual_seed(0)
    cells = cells or [
        dict(type='SuccessiveCell', ops=[op('a'), op('b')]),
        dict(type='SuccessiveCell', ops=[op('c')]),
    ]
    return MODELS.build(
        dict(
            type='BilevelSearchAlgorithm',
            architecture=dict(
                type='ImageFusor',
                fusion_net=dict(type='TIMFusionNet', channels=4, cells=cells),
                losses=[dict(type='MaxIntensityLoss')]),
            strategy=dict(type='DartsFirstOrderStrategy'),
            arch_update_interval=1,
            regularizer=dict(
                type='SkipCountRegularizer', loss_weight=0.1,
                budget=budget)))


def wrappers(model):
    return BilevelOptimWrapperConstructor(
        dict(
            weights=dict(optimizer=dict(type='SGD', lr=0.01)),
            arch=dict(optimizer=dict(type='Adam', lr=0.01))))(model)


def batch(seed):
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.rand(2, 2, 8, 8, generator=gen))


def test_impossible_budget_stops_before_the_first_alpha_update():
    algo = build(budget=-1)
    before = [p.detach().clone() for p in algo.arch_parameters()]
    with pytest.raises(ResourceConstraintError,
                       match=r'impossible SkipCountRegularizer skip '
                       r'connections budget -1: the cheapest architecture '
                       r"of the space costs 0 .*'a' -> 'DilConv_3_2'"):
        algo.train_step(dict(train=batch(0), val=batch(1)), wrappers(algo))
    assert all(torch.equal(p, q)
               for p, q in zip(algo.arch_parameters(), before))


def test_derived_genotype_meets_the_budget_by_cheapest_swaps():
    algo = build(budget=1)
    algo.train_step(dict(train=batch(0), val=batch(1)), wrappers(algo))
    # every key prefers 'skip'; 'a' most strongly, then 'c', then 'b'
    with torch.no_grad():
        for key, boost in (('a', 3.0), ('b', 0.5), ('c', 1.0)):
            alpha = algo.arch_params.alphas[key]
            alpha.zero_()
            alpha[1] = boost
    free = build(budget=None)
    free.load_state_dict(algo.state_dict())
    assert set(free.derive_genotype().choices.values()) == {'skip'}
    geno = algo.derive_genotype()
    # 3 skips > budget 1: 'b' then 'c' switch (least probability lost)
    assert geno.choices == dict(a='skip', b='DilConv_3_2', c='DilConv_3_2')
    assert geno.meta['budget'] == 1.0 and geno.meta['cost'] == 1.0
    assert geno.meta['budget_swaps'] == [
        'b: skip -> DilConv_3_2', 'c: skip -> DilConv_3_2'
    ]
    assert geno.network['cells'][0]['ops'] == ['skip', 'DilConv_3_2']
    # the regulariser's own accounting agrees
    assert algo.regularizer.cost_of(geno.choices, algo.arch_params) == 1.0


def test_budget_must_be_finite():
    with pytest.raises(ValueError, match='budget must be finite'):
        build(budget=float('nan'))


def test_search_config_exposes_the_hard_budget():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'search_fusion_ivif_budget_toy.py'))
    cfg.merge_from_dict({'model.regularizer.budget': 0.5})
    reg = MODELS.build(cfg.model).regularizer
    assert type(reg).__name__ == 'LatencyRegularizer'
    assert reg.budget == 0.5 and reg.loss_weight == 0.1


def test_nested_choice_points_count_only_under_the_chosen_cell():
    """Two-level space: the ops of the cell not chosen are not paid."""
    algo = build(
        budget=1,
        cells=[
            dict(
                type='DiffMixedOp',
                key='cell',
                candidates=dict(
                    sc=dict(type='SuccessiveCell',
                            ops=[op('sc_a'), op('sc_b')]),
                    ms=dict(type='MultiScaleFusionCell', ops=[op('ms_a')])))
        ])
    algo.train_step(dict(train=batch(0), val=batch(1)), wrappers(algo))
    with torch.no_grad():
        for key, prefer, boost in (('cell', 'sc', 3.0), ('sc_a', 'skip', 2.0),
                                   ('sc_b', 'skip', 1.0),
                                   ('ms_a', 'skip', 2.0)):
            alpha = algo.arch_params.alphas[key]
            alpha.zero_()
            alpha[algo.arch_params.choices(key).index(prefer)] = boost
    geno = algo.derive_genotype()
    # 2 skips are paid in the chosen 'sc' cell (ms_a's skip is not): the
    # edge preferring skip least switches; the cell choice (switching it
    # would also cost less, but loses more probability) stays
    assert geno.choices['cell'] == 'sc' and geno.choices['sc_a'] == 'skip'
    assert geno.meta['budget_swaps'] == ['sc_b: skip -> DilConv_3_2']
    assert geno.meta['cost'] == 1.0
