"""Cooperative search of more than two parts (a chain of pre-modules)."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine import Config
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmfusenas.models.mutables import DiffMixedOp
from mmfusenas.registry import MODELS
from mmfusenas.search import CooperativeProblem, CooperativeStrategy
from mmfusenas.search.strategies import (CooperativePart,
                                         DartsFirstOrderStrategy)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


# ---------------------------------------------------------------- strategy
def _three_parts(losses_fn=True):
    """A tiny differentiable chain a -> b -> c with a loss per part."""
    g = torch.Generator().manual_seed(0)
    p = {
        k: torch.randn(2 if k[0] == 'a' else 3, generator=g).requires_grad_()
        for k in ('a0', 'w0', 'a1', 'w1', 'a2', 'w2')
    }
    batches = [(torch.randn(3, generator=g), torch.randn(3, generator=g))
               for _ in range(2)]
    calls = dict(n=0)

    def outs(x):
        calls['n'] += 1
        m0, m1, m2 = (torch.softmax(p[f'a{i}'], 0) for i in range(3))
        y0 = m0[0] * torch.tanh(p['w0'] * x) + m0[1] * p['w0'] * x
        y1 = m1[0] * torch.sin(p['w1'] + y0) + m1[1] * p['w1'] * y0
        y2 = m2[0] * p['w2'] * y1 + m2[1] * torch.cos(p['w2'] * y1)
        return y0, y1, y2

    def losses(b):
        x, y = b
        return [((o - y)**2).mean() + 0.1 * (p[f'w{i}']**2).sum()
                for i, o in enumerate(outs(x))]

    fns = [lambda b, i=i: losses(b)[i] for i in range(3)]
    parts = [
        CooperativePart(name, [p[f'a{i}']], [p[f'w{i}']], fns[i])
        for i, name in enumerate(('scene', 'fusion', 'task'))
    ]
    problem = CooperativeProblem.from_parts(
        parts,
        train_batch=batches[0],
        val_batch=batches[1],
        losses_fn=losses if losses_fn else None)
    return p, problem, fns, batches, calls


class _PlainGradient(DartsFirstOrderStrategy):
    """First-order DARTS that the fused path does not recognise."""


@pytest.mark.parametrize('reach', ['downstream', 'next'])
def test_part_hypergradient_is_own_plus_beta_downstream(reach):
    p, problem, fns, batches, _ = _three_parts()
    beta = 0.7
    first = dict(type='DartsFirstOrderStrategy')
    strat = CooperativeStrategy(
        beta=beta,
        scene_strategy=first,
        task_strategy=first,
        coupling_strategy=first,
        coupling_reach=reach)
    val = batches[1]
    later = {'downstream': [[1, 2], [2], []], 'next': [[1], [2], []]}[reach]
    for i in range(3):
        loss = fns[i](val) + beta * sum(fns[j](val) for j in later[i])
        expected = torch.autograd.grad(loss, p[f'a{i}'])[0]
        got = strat.part_hypergradient(problem, i)
        torch.testing.assert_close(got.grads[0], expected)
        # the same through the unfused path (own + coupling separately)
        slow = CooperativeStrategy(
            beta=beta,
            scene_strategy=_PlainGradient(),
            task_strategy=_PlainGradient(),
            coupling_strategy=_PlainGradient(),
            coupling_reach=reach).part_hypergradient(problem, i)
        torch.testing.assert_close(slow.grads[0], expected)
    name = problem.names[0]
    assert f'{name}/coupled_upper_loss' in strat.part_hypergradient(
        problem, 0).log_vars
    assert f'{name}/coupling/upper_loss' in CooperativeStrategy(
        beta=beta, scene_strategy=_PlainGradient(),
        coupling_reach=reach).part_hypergradient(problem, 0).log_vars
    # two parts: scene / task are the first / last part
    torch.testing.assert_close(
        strat.part_hypergradient(problem, -1).grads,
        strat.part_hypergradient(problem, 'task').grads)


def test_losses_fn_costs_one_forward_per_coupled_sum():
    _, problem, _, _, calls = _three_parts(losses_fn=True)
    _, slow_problem, _, _, slow_calls = _three_parts(losses_fn=False)
    strat = CooperativeStrategy(
        scene_strategy=_PlainGradient(),
        coupling_strategy=_PlainGradient())
    for prob, count in ((problem, calls), (slow_problem, slow_calls)):
        count['n'] = 0
        strat.part_hypergradient(prob, 0)
    # own loss: 1 forward; coupling (fusion + task): 1 with losses_fn, 2
    # without
    assert (calls['n'], slow_calls['n']) == (2, 3)
    torch.testing.assert_close(
        strat.part_hypergradient(problem, 0).grads,
        strat.part_hypergradient(slow_problem, 0).grads)


def test_part_strategies_and_errors():
    p, problem, fns, batches, _ = _three_parts()
    strat = CooperativeStrategy(
        scene_strategy=dict(type='DartsSecondOrderStrategy'),
        part_strategies=dict(fusion=dict(type='DartsFirstOrderStrategy')))
    assert type(strat.strategy_of(problem, 'fusion')).__name__ == \
        'DartsFirstOrderStrategy'
    assert type(strat.strategy_of(problem, 'scene')).__name__ == \
        'DartsSecondOrderStrategy'
    bad = CooperativeStrategy(part_strategies=dict(detector=dict(
        type='DartsFirstOrderStrategy')))
    with pytest.raises(KeyError, match='detector'):
        bad.part_hypergradient(problem, 0)
    with pytest.raises(ValueError, match='coupling_reach'):
        CooperativeStrategy(coupling_reach='all')
    with pytest.raises(ValueError, match='at least two'):
        CooperativeProblem.from_parts(
            [CooperativePart('a', [p['a0']], [p['w0']], fns[0])],
            train_batch=None,
            val_batch=None)
    with pytest.raises(ValueError, match='unique'):
        CooperativeProblem.from_parts([
            CooperativePart('a', [p['a0']], [p['w0']], fns[0]),
            CooperativePart('a', [p['a1']], [p['w1']], fns[1])
        ],
                                      train_batch=None,
                                      val_batch=None)
    with pytest.raises(ValueError, match='disjoint'):
        CooperativeProblem.from_parts([
            CooperativePart('a', [p['a0']], [p['w0']], fns[0]),
            CooperativePart('b', [p['a1']], [p['w0']], fns[1])
        ],
                                      train_batch=None,
                                      val_batch=None)
    with pytest.raises(KeyError, match='no part'):
        problem.index('neck')
    # the joint problem holds every α and ω, with the summed loss
    joint = problem.joint()
    assert len(joint.arch_params) == 3 and len(joint.weight_params) == 3
    torch.testing.assert_close(
        joint.val_loss(batches[0]), sum(f(batches[0]) for f in fns))


# --------------------------------------------------------------- algorithm
@MODELS.register_module(force=True)
class _ThreeStageToy(BaseModel):
    """x -> a -> b -> c, one choice point and one loss per stage."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 1)
        self.a = DiffMixedOp('a/e0', ['conv_1', 'conv_3'], channels=2)
        self.b = nn.Sequential(
            nn.Conv2d(2, 2, 1),
            DiffMixedOp('b/e0', ['conv_1', 'conv_3'], channels=2))
        self.c = DiffMixedOp('c/e0', ['conv_1', 'conv_3'], channels=2)

    def forward(self, inputs, data_samples=None, mode='loss'):
        x = self.stem(inputs)
        ya = self.a(x)
        yb = self.b(ya)
        yc = self.c(yb)
        return dict(
            loss_a=((ya - x.detach())**2).mean(),
            loss_b=((yb - 0.5)**2).mean(),
            loss_c=(yc.mean(1) - inputs[:, 0]).abs().mean(),
            acc_c=yc.detach().mean())


PARTS = [
    dict(name='a', path=['stem', 'a'], losses=['loss_a']),
    dict(name='b', path='b', losses=['loss_b']),
    dict(name='c', path='c', losses=['loss_c'], update_interval=2),
]


def _algo(**kw):
    cfg = dict(
        type='CooperativeSearchAlgorithm',
        architecture=dict(type='_ThreeStageToy'),
        strategy=dict(
            type='CooperativeStrategy',
            beta=0.5,
            scene_strategy=dict(type='DartsFirstOrderStrategy'),
            task_strategy=dict(type='DartsFirstOrderStrategy'),
            coupling_strategy=dict(type='DartsFirstOrderStrategy')),
        parts=PARTS,
        space_path='')
    cfg.update(kw)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def _batch(seed):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.rand(2, 1, 8, 8, generator=g))


def _optim(model, arch_lr=0.1, lr=0.05):
    return OptimWrapperDict(
        weights=OptimWrapper(
            torch.optim.SGD(model.weight_parameters(), lr=lr)),
        arch=OptimWrapper(
            torch.optim.SGD(model.arch_parameters(), lr=arch_lr)))


def test_algorithm_steps_each_part_in_order_with_its_own_gradients():
    model = _algo()
    assert model.part_names == ('a', 'b', 'c')
    assert model.part_keys == dict(a=['a/e0'], b=['b/e0'], c=['c/e0'])
    assert (model.scene_keys, model.task_keys) == (['a/e0'], ['c/e0'])
    ref = copy.deepcopy(model)
    train, val = _batch(1), _batch(2)
    beta, arch_lr, lr = 0.5, 0.1, 0.05
    log = model.train_step(dict(train=train, val=val), _optim(model))
    # step 0: parts a and b (c is due every 2nd step)
    assert {'a/hypergrad_norm', 'b/hypergrad_norm', 'loss_a', 'loss_b'} <= \
        set(log) and 'c/hypergrad_norm' not in log and 'loss_c' not in log

    def losses(m, batch):
        return m.architecture(**batch, mode='loss')

    alphas = ref.arch_params.alphas
    names = dict(a='loss_a', b='loss_b', c='loss_c')
    downstream = dict(a=['b', 'c'], b=['c'])
    for part in ('a', 'b'):
        # α_part: plain gradient of its own + β later validation losses
        out = losses(ref, val)
        upper = out[names[part]] + beta * sum(
            out[names[j]] for j in downstream[part])
        g = torch.autograd.grad(upper, alphas[f'{part}/e0'])[0]
        with torch.no_grad():
            alphas[f'{part}/e0'] -= arch_lr * g
        # ω_part: one SGD step on its own training loss only
        params = ref.part_weight_parameters(part)
        grads = torch.autograd.grad(
            losses(ref, train)[names[part]], params, allow_unused=True)
        with torch.no_grad():
            for w, gw in zip(params, grads):
                if gw is not None:
                    w -= lr * gw
    for key in ('a/e0', 'b/e0', 'c/e0'):
        torch.testing.assert_close(model.arch_params.alphas[key],
                                   alphas[key])
    for part in ('a', 'b', 'c'):
        torch.testing.assert_close(
            model.part_weight_parameters(part),
            ref.part_weight_parameters(part))
    c0 = [w.detach().clone() for w in model.part_weight_parameters('c')]
    log = model.train_step(dict(train=train, val=val), _optim(model))
    assert 'c/hypergrad_norm' in log and 'loss_c' in log
    assert any(not torch.equal(a, b)
               for a, b in zip(c0, model.part_weight_parameters('c')))


def test_algorithm_part_errors():
    with pytest.raises(ValueError, match='none of the parts'):
        _algo(parts=PARTS[:2])
    with pytest.raises(ValueError, match='both'):
        _algo(parts=PARTS[:2] + [dict(name='c', path='b', losses=['x'])])
    with pytest.raises(ValueError, match='not both'):
        _algo(task_update_interval=2)
    with pytest.raises(KeyError, match='missing keys'):
        _algo(parts=[dict(name='a', path='a')] + PARTS[1:])
    with pytest.raises(ValueError, match='not a sub-module'):
        _algo(parts=[dict(name='a', path='nope', losses=['l'])] + PARTS[1:])
    with pytest.raises(ValueError, match='update_interval'):
        _algo(parts=PARTS[:2] + [dict(PARTS[2], update_interval=0)])
    model = _algo(parts=[PARTS[0], PARTS[1], dict(PARTS[2],
                                                  losses=['loss_z'])])
    with pytest.raises(KeyError, match='loss_z'):
        model.train_step(
            dict(train=_batch(1), val=_batch(2)), _optim(model))


# ------------------------------------------------------------------ config
def test_chain_search_config_builds_three_parts():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/compose/search_chain_retinanet_night_toy.py'))
    model = MODELS.build(cfg.model)
    assert model.part_names == ('scene', 'fusion', 'task')
    keys = model.part_keys
    assert keys['scene'] == [f'scene/edge{e}' for e in range(7)]
    assert keys['fusion'] == [
        f'fusion/cell{c}/op{o}' for c in range(2) for o in range(2)
    ]
    assert len(keys['task']) == 18 and all(
        k.startswith('neck/') for k in keys['task'])
    # every trainable weight belongs to exactly one part
    owned = sum(len(model.part_weight_parameters(p)) for p in keys)
    assert owned == len(model.trainable_weight_parameters())
