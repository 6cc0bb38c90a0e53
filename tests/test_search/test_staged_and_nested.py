"""Nested expected cost of two-level spaces and the staged α schedule."""
import math
import types

import pytest
import torch
import torch.nn as nn

from mmfusenas.engine import ArchScheduleHook
from mmfusenas.models.mutables import (ArchParams, bind_arch_params,
                                       choice_parents, path_probability)
from mmfusenas.registry import HOOKS, MODELS, TASK_UTILS
from mmfusenas.search import nested_expected_cost, operation_sensitive_reg
from test_bilevel_search import (batch, build_algorithm,
                                                   optim_wrappers, tiny_space)

PARENTS = {'c': None, 'c/A/op': ('c', 0), 'c/B/op': ('c', 1)}
COSTS = {
    'c': torch.tensor([0.5, 1.5], dtype=torch.float64),
    'c/A/op': torch.tensor([1., 5.], dtype=torch.float64),
    'c/B/op': torch.tensor([2., 4.], dtype=torch.float64),
}


def _alphas():
    return {
        'c': nn.Parameter(torch.tensor([0., math.log(3)],
                                       dtype=torch.float64)),
        'c/A/op': nn.Parameter(torch.tensor([math.log(3), 0.],
                                            dtype=torch.float64)),
        'c/B/op': nn.Parameter(torch.zeros(2, dtype=torch.float64)),
    }


def test_nested_expected_cost_by_hand():
    """p(c) = (1/4, 3/4); E[c] = 1.25, E[A op] = 2 (weight 1/4),
    E[B op] = 3 (weight 3/4): 1.25 + 0.5 + 2.25 = 4. The cell α sees the
    cost of each cell's operators: v = own + nested = (2.5, 4.5), so
    ∂/∂α_c = p (v − 4) = (−0.375, 0.375); the flat sum (6.25) gives only
    p (own − 1.25) = (−0.1875, 0.1875)."""
    alphas = _alphas()
    reg = nested_expected_cost(alphas, COSTS, PARENTS)
    assert reg.item() == pytest.approx(4.0, abs=1e-12)
    grad_c, = torch.autograd.grad(reg, [alphas['c']])
    torch.testing.assert_close(
        grad_c, torch.tensor([-0.375, 0.375], dtype=torch.float64))
    flat = operation_sensitive_reg(alphas, COSTS)
    assert flat.item() == pytest.approx(6.25, abs=1e-12)
    grad_flat, = torch.autograd.grad(flat, [alphas['c']])
    torch.testing.assert_close(
        grad_flat, torch.tensor([-0.1875, 0.1875], dtype=torch.float64))
    # a nested op's α is weighted by its cell's probability
    alphas = _alphas()
    grad_a, = torch.autograd.grad(
        nested_expected_cost(alphas, COSTS, PARENTS), [alphas['c/A/op']])
    # p_A = (3/4, 1/4): p (c − 2) = (−0.75, 0.75), times p(c = A) = 1/4
    torch.testing.assert_close(
        grad_a, torch.tensor([-0.1875, 0.1875], dtype=torch.float64))


def test_path_probability_and_errors():
    probs = {k: a.softmax(-1) for k, a in _alphas().items()}
    assert path_probability('c', PARENTS, probs).item() == 1.0
    assert path_probability('c/B/op', PARENTS,
                            probs).item() == pytest.approx(0.75)
    with pytest.raises(ValueError, match='cycle'):
        path_probability('x', {'x': ('y', 0), 'y': ('x', 0)},
                         {'x': torch.ones(2), 'y': torch.ones(2)})
    with pytest.raises(KeyError, match='no α'):
        nested_expected_cost({'c': torch.zeros(2)}, COSTS, PARENTS)


def test_choice_parents_of_a_two_level_space():
    net = MODELS.build(tiny_space())
    assert choice_parents(net) == {
        'cell0': None,
        'cell0/sc/op0': ('cell0', 0),
        'cell0/sc/op1': ('cell0', 0),
        'cell0/ms/op0': ('cell0', 1),
        'cell1/op0': None,
    }


def test_flops_regulariser_weights_nested_ops_by_their_cell():
    net = MODELS.build(tiny_space())
    arch = ArchParams()
    bind_arch_params(net, arch)
    inputs = torch.rand(1, 2, 8, 8)
    nested = TASK_UTILS.build(dict(type='FlopsRegularizer', normalize=False))
    nested.prepare(net, arch, inputs)
    flat = TASK_UTILS.build(
        dict(type='FlopsRegularizer', normalize=False, nested=False))
    flat.prepare(net, arch, inputs)
    costs = nested.costs
    # the multi-scale cell runs its edge at C, 2C, 4C: 3 places of one key
    assert set(costs) == set(arch.keys())
    assert all((v > 0).any() for v in costs.values())
    with torch.no_grad():
        arch.alphas['cell0'].copy_(torch.tensor([0.0, math.log(3)]))
    p = arch.weights
    expected = sum((p(k) * costs[k].float()).sum() for k in
                   ('cell0', 'cell1/op0')) + 0.25 * sum(
                       (p(k) * costs[k].float()).sum()
                       for k in ('cell0/sc/op0', 'cell0/sc/op1')) + 0.75 * (
                           p('cell0/ms/op0') * costs['cell0/ms/op0'].float()
                       ).sum()
    assert nested(arch).item() == pytest.approx(expected.item(), rel=1e-6)
    flat_expected = sum((p(k) * costs[k].float()).sum() for k in costs)
    assert flat(arch).item() == pytest.approx(flat_expected.item(), rel=1e-6)
    assert nested(arch).item() < flat(arch).item()
    # deterministic: FLOPs, not timings
    again = TASK_UTILS.build(dict(type='FlopsRegularizer', normalize=False))
    again.prepare(net, arch, inputs)
    assert all(torch.equal(again.costs[k], costs[k]) for k in costs)


# ------------------------------------------------------------ staged search
def _runner(algo, epoch=0, it=0):
    return types.SimpleNamespace(
        model=algo,
        epoch=epoch,
        iter=it,
        logger=types.SimpleNamespace(info=lambda msg: None))


def test_staged_schedule_updates_only_the_active_groups():
    algo = build_algorithm(strategy='DartsFirstOrderStrategy')
    ow = optim_wrappers(algo)
    hook = HOOKS.build(
        dict(
            type='ArchScheduleHook',
            stages=[
                dict(begin=0, end=1, keys=[]),  # warm-up: weights only
                dict(begin=1, end=2, keys=['cell?']),  # cell level
                dict(begin=2, end=None, levels=[1]),  # nested ops
            ]))
    keys = {}
    for epoch in range(3):
        hook.before_train_epoch(_runner(algo, epoch))
        keys[epoch] = algo.active_arch_keys
    assert keys == {
        0: (),
        1: ('cell0', ),
        2: ('cell0/sc/op0', 'cell0/sc/op1', 'cell0/ms/op0')
    }

    def alphas():
        return {k: v.detach().clone() for k, v in algo.arch_params.alphas.items()}

    hook.before_train_epoch(_runner(algo, 0))
    assert not algo.arch_step_due
    before = alphas()
    log = algo.train_step(dict(train=batch(0)), ow)  # no val batch needed
    assert 'hypergrad_norm' not in log
    assert all(torch.equal(before[k], v) for k, v in alphas().items())

    for epoch, active in ((1, {'cell0'}),
                          (2, {'cell0/sc/op0', 'cell0/sc/op1',
                               'cell0/ms/op0'})):
        hook.before_train_epoch(_runner(algo, epoch))
        assert algo.arch_step_due
        before = alphas()
        log = algo.train_step(dict(train=batch(1), val=batch(2)), ow)
        assert 'hypergrad_norm' in log
        after = alphas()
        moved = {k for k in after if not torch.equal(before[k], after[k])}
        assert moved == active, epoch  # Adam's weight decay moves no other


def test_schedule_without_stage_and_by_iteration():
    algo = build_algorithm(strategy='DartsFirstOrderStrategy')
    hook = ArchScheduleHook(
        stages=[dict(begin=2, end=4, keys=['cell1/*'])], by_epoch=False)
    hook.before_train_iter(_runner(algo, it=0), 0)
    assert algo.active_arch_keys == ()  # outside every stage: no α step
    hook.before_train_iter(_runner(algo, it=3), 3)
    assert algo.active_arch_keys == ('cell1/op0', )
    hook.before_train_epoch(_runner(algo, epoch=3))  # by_epoch=False: no-op
    assert algo.active_arch_keys == ('cell1/op0', )
    algo.set_active_arch_keys(None)
    assert len(algo.active_arch_parameters()) == len(algo.arch_parameters())


def test_schedule_errors():
    with pytest.raises(ValueError, match='overlap'):
        ArchScheduleHook(stages=[dict(begin=0, end=5), dict(begin=3, end=6)])
    with pytest.raises(ValueError, match='empty'):
        ArchScheduleHook(stages=[dict(begin=4, end=4)])
    with pytest.raises(ValueError, match='dict\\(begin'):
        ArchScheduleHook(stages=[dict(start=0)])
    algo = build_algorithm(strategy='DartsFirstOrderStrategy')
    hook = ArchScheduleHook(stages=[dict(begin=0, keys=['nope*'])])
    with pytest.raises(ValueError, match='matches no architecture key'):
        hook.before_train_epoch(_runner(algo))
    with pytest.raises(KeyError, match='no α'):
        algo.set_active_arch_keys(['nope'])
