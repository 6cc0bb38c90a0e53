"""BilevelSearchAlgorithm and BilevelOptimWrapperConstructor.

A tiny two-level space (which cell at position 0 and which op on each of its
edges; the ops of cell 1) at 4 channels on 8x8 inputs keeps every step at a
few milliseconds.
"""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapperDict

from mmfusenas.engine import BilevelOptimWrapperConstructor
from mmfusenas.models.mutables import fix_space_cfg
from mmfusenas.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmfusenas.search import BilevelProblem, BilevelSearchAlgorithm
from mmfusenas.structures import FusionDataSample
from helpers import TINY_OPS
from helpers import tiny_search_space as tiny_space
from helpers.finite_guard import set_up_guard

# one intra-op thread: tiny tensors lose to threads on a shared CPU
pytestmark = pytest.mark.usefixtures('one_thread')

OPS = list(TINY_OPS)


def fusor(fusion_net=None):
    return dict(
        type='ImageFusor',
        fusion_net=fusion_net or tiny_space(),
        losses=[
            dict(type='MaxIntensityLoss'),
            dict(type='MaxGradientLoss', loss_weight=2.0)
        ])


def build_algorithm(strategy='IASStrategy', **kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='BilevelSearchAlgorithm',
        architecture=kwargs.pop('architecture', fusor()),
        strategy=dict(type=strategy))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def optim_wrappers(model):
    constructor = BilevelOptimWrapperConstructor(
        dict(
            weights=dict(
                optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
            arch=dict(
                optimizer=dict(
                    type='Adam',
                    lr=0.01,
                    betas=(0.5, 0.999),
                    weight_decay=1e-3))))
    return constructor(model)


def batch(seed, n=2, size=8):
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.rand(n, 2, size, size, generator=gen))


def snapshot(params):
    return [p.detach().clone() for p in params]


def same(xs, ys):
    return all(torch.equal(x, y) for x, y in zip(xs, ys))


def test_levels_are_disjoint_and_cover_every_parameter():
    algo = build_algorithm()
    arch = {id(p) for p in algo.arch_parameters()}
    weights = {id(p) for p in algo.weight_parameters()}
    assert not arch & weights
    assert arch | weights == {id(p) for p in algo.parameters()}
    assert set(algo.arch_params.keys()) == {
        'cell0', 'cell0/sc/op0', 'cell0/sc/op1', 'cell0/ms/op0', 'cell1/op0'
    }
    # α and the step counter are model state (saved in checkpoints)
    state = algo.state_dict()
    assert 'arch_params.alphas.cell0' in state
    assert 'train_step_count' in state
    # the data preprocessor defaults to the architecture's
    assert algo.data_preprocessor is algo.architecture.data_preprocessor


def test_alpha_moves_only_on_interval_steps_weights_on_every_step():
    algo = build_algorithm(arch_update_interval=3)
    ow = optim_wrappers(algo)
    for k in range(6):
        due = (k + 1) % 3 == 0
        assert algo.arch_step_due == due
        alphas = snapshot(algo.arch_parameters())
        weights = snapshot(algo.weight_parameters())
        # the architecture batch is only needed on α steps
        data = dict(train=batch(k), val=batch(100 + k) if due else None)
        log = algo.train_step(data, ow)
        assert same(alphas, algo.arch_parameters()) != due
        # (the exact weight update is checked in the next test)
        assert not same(weights, algo.weight_parameters())
        assert ('hypergrad_norm' in log) == due
        assert {'loss', 'loss_int', 'loss_grad'} <= set(log)
        assert algo.num_train_steps == k + 1


def test_one_search_step_equals_the_two_levels_done_by_hand():
    """α step with the strategy's hypergradient, then a weight step with
    ∇_θ f at the new α: bit for bit, and no gradient crosses levels."""
    algo = build_algorithm()
    ref = copy.deepcopy(algo)
    ow, ow_ref = optim_wrappers(algo), optim_wrappers(ref)
    train, val = batch(0), batch(1)

    seen = {}

    def spy(level, others, step):

        def wrapped(**kwargs):
            seen[level] = [p.grad for p in others]
            return step(**kwargs)

        return wrapped

    # when one optimizer steps, the other level holds no gradient
    ow['arch'].step = spy('arch', algo.weight_parameters(), ow['arch'].step)
    ow['weights'].step = spy('weights', algo.arch_parameters(),
                             ow['weights'].step)
    for _ in range(2):
        algo.train_step(dict(train=train, val=val), ow)
        assert all(g is None for g in seen['arch'])
        assert all(g is None for g in seen['weights'])

        tr = ref.data_preprocessor(train, True)
        vl = ref.data_preprocessor(val, True)
        problem = BilevelProblem(
            ref.arch_parameters(),
            ref.weight_parameters(),
            train_batch=tr,
            val_batch=vl,
            loss_fn=ref.total_loss,
            weight_optimizer=ow_ref['weights'])
        grads = ref.strategy.hypergradient(problem).grads
        for p, g in zip(ref.arch_parameters(), grads):
            p.grad = g
        ow_ref['arch'].optimizer.step()
        weights = ref.weight_parameters()
        for p, g in zip(weights,
                        torch.autograd.grad(ref.total_loss(tr), weights)):
            p.grad = g
        ow_ref['weights'].optimizer.step()
        ow_ref['arch'].optimizer.zero_grad()
        ow_ref['weights'].optimizer.zero_grad()
        assert same(algo.arch_parameters(), ref.arch_parameters())
        assert same(algo.weight_parameters(), ref.weight_parameters())
    assert all(p.grad is None for p in algo.parameters())


class StandInRegularizer:
    """``λ Σ_k softmax(α_k) · cost_k`` with per-candidate costs
    ``0, 1, 2, ...``; records its ``prepare`` calls."""

    def __init__(self, lam=0.7):
        self.lam = lam
        self.prepared = []

    def prepare(self, supernet, arch_params, example_inputs):
        self.prepared.append((supernet, arch_params, example_inputs.shape))

    def __call__(self, arch_params):
        total = 0
        for key in arch_params.keys():
            w = arch_params.weights(key)
            total = total + (w * torch.arange(len(w), dtype=w.dtype)).sum()
        return self.lam * total


def test_regularizer_enters_the_upper_loss_only():
    plain = build_algorithm(strategy='DartsFirstOrderStrategy')
    reg = StandInRegularizer()
    regularized = copy.deepcopy(plain)
    object.__setattr__(regularized, 'regularizer', reg)
    captured = {}
    ow_plain, ow_reg = optim_wrappers(plain), optim_wrappers(regularized)
    levels = dict(plain=(plain, ow_plain), reg=(regularized, ow_reg))
    for name, (algo, ow) in levels.items():
        step = ow['arch'].step

        def spy(step=step, algo=algo, name=name, **kwargs):
            captured[name] = [p.grad.clone() for p in algo.arch_parameters()]
            return step(**kwargs)

        ow['arch'].step = spy

    alphas = regularized.arch_parameters()
    expected_reg = reg(regularized.arch_params)
    reg_grads = torch.autograd.grad(expected_reg, alphas)
    data = dict(train=batch(0), val=batch(1))
    log_plain = plain.train_step(data, ow_plain)
    log_reg = regularized.train_step(data, ow_reg)

    # first order: G = ∇_α (F + Reg) = ∇_α F + ∇_α Reg
    for g_reg, g_plain, g_expected in zip(captured['reg'], captured['plain'],
                                          reg_grads):
        torch.testing.assert_close(g_reg - g_plain, g_expected)
    assert log_reg['arch_reg'] == pytest.approx(expected_reg.item())
    assert log_reg['upper_loss'] == pytest.approx(log_plain['upper_loss'] +
                                                  expected_reg.item())
    assert 'arch_reg' not in log_plain
    # prepared once, before the first α step, with the searched network
    regularized.train_step(dict(train=batch(2), val=batch(3)), ow_reg)
    assert len(reg.prepared) == 1
    supernet, arch_params, shape = reg.prepared[0]
    assert supernet is regularized.architecture.fusion_net
    assert arch_params is regularized.arch_params
    assert shape == (2, 2, 8, 8)


def test_derive_genotype_gives_the_fixed_network_of_the_space():
    algo = build_algorithm()
    picks = {
        'cell0': 'sc',
        'cell0/sc/op0': 'SPAattention_3',
        'cell0/sc/op1': 'DilConv_3_2',
        'cell0/ms/op0': 'SPAattention_3',
        'cell1/op0': 'SPAattention_3'
    }
    with torch.no_grad():
        for key, name in picks.items():
            choices = algo.arch_params.choices(key)
            algo.arch_params.alphas[key][choices.index(name)] += 1.0
    geno = algo.derive_genotype(meta=dict(epoch=3))
    assert geno.choices == picks
    assert geno.network == fix_space_cfg(tiny_space(), picks)
    assert geno.network['cells'][0] == dict(
        type='SuccessiveCell', ops=['SPAattention_3', 'DilConv_3_2'])
    assert set(geno.probabilities) == set(picks)
    assert geno.probabilities['cell0']['sc'] > 0.5
    assert geno.meta == dict(
        strategy='IASStrategy',
        space_path='fusion_net',
        train_steps=0,
        epoch=3)


def test_inference_delegates_to_the_supernet():
    algo = build_algorithm()
    algo.eval()
    x = batch(0)['inputs']
    assert torch.equal(algo(x), algo.architecture.fusion_net(x))
    samples = [
        FusionDataSample(metainfo=dict(img_shape=(6, 7))) for _ in range(2)
    ]
    out = algo.val_step(dict(inputs=x, data_samples=samples))
    assert out[0].pred_fused.shape == (1, 6, 7)


def test_bad_configs_and_inputs_are_reported():
    with pytest.raises(ValueError, match='no choice points'):
        build_algorithm(
            architecture=fusor(
                dict(
                    type='TIMFusionNet',
                    channels=4,
                    cells=[dict(type='SuccessiveCell', ops=OPS)])))
    with pytest.raises(ValueError, match='outside space_path'):
        build_algorithm(space_path='fusion_net.cells.1')
    with pytest.raises(KeyError, match="'fusion_net.nope'"):
        build_algorithm(space_path='fusion_net.nope')
    with pytest.raises(ValueError, match='arch_update_interval'):
        build_algorithm(arch_update_interval=0)
    with pytest.raises(TypeError, match='model config'):
        BilevelSearchAlgorithm(
            architecture=nn.Linear(2, 2), strategy=dict(type='IASStrategy'))

    algo = build_algorithm(arch_update_interval=2)
    ow = optim_wrappers(algo)
    with pytest.raises(TypeError, match="'weights' and 'arch'"):
        algo.train_step(dict(train=batch(0)), ow['weights'])
    with pytest.raises(TypeError, match="'weights' and 'arch'"):
        algo.train_step(
            dict(train=batch(0)), OptimWrapperDict(weights=ow['weights']))
    with pytest.raises(TypeError, match='dict\\(train=batch, val=batch\\)'):
        algo.train_step(batch(0), ow)
    algo.train_step(dict(train=batch(0)), ow)
    with pytest.raises(ValueError, match="needs data\\['val'\\]"):
        algo.train_step(dict(train=batch(1)), ow)


def test_nan_losses_raise_floating_point_errors():
    algo = build_algorithm(arch_update_interval=2)
    ow = optim_wrappers(algo)
    bad = dict(inputs=torch.full((2, 2, 8, 8), float('nan')),
               data_samples=[FusionDataSample(metainfo=dict(stem=s))
                             for s in ('n0', 'n1')])
    weights = snapshot(algo.weight_parameters())
    guard = set_up_guard(algo, ow, dict(train=bad))
    # the weight step: the default guard refuses it, naming the samples
    with pytest.raises(FloatingPointError,
                       match=r"optimizer 'weights' .* batch samples: "
                       r'train:n0, train:n1\)'):
        algo.train_step(dict(train=bad), ow)
    guard.remove()
    assert same(weights, algo.weight_parameters())
    algo.train_step(dict(train=batch(0)), ow)
    alphas = snapshot(algo.arch_parameters())
    # the α step: the NaN upper loss reaches α.grad, whose step the guard
    # refuses, naming both splits' samples
    data = dict(train=batch(0), val=bad)
    guard = set_up_guard(algo, ow, data)
    with pytest.raises(FloatingPointError,
                       match=r"optimizer 'arch' .* batch samples: .*"
                       r'val:n0, val:n1\)'):
        algo.train_step(data, ow)
    guard.remove()
    assert same(alphas, algo.arch_parameters())


def test_optim_wrapper_constructor_builds_one_optimizer_per_level():
    algo = build_algorithm()
    cfg = dict(
        constructor='BilevelOptimWrapperConstructor',
        weights=dict(
            type='OptimWrapper',
            optimizer=dict(
                type='SGD', lr=0.1, momentum=0.9, weight_decay=3e-4),
            clip_grad=dict(max_norm=5.0)),
        arch=dict(
            optimizer=dict(
                type='Adam', lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)))
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type=cfg.pop('constructor'),
            optim_wrapper_cfg=cfg,
            paramwise_cfg=None))
    ow = constructor(algo)
    assert isinstance(ow, OptimWrapperDict)
    assert set(ow.keys()) == {'weights', 'arch'}
    weights = ow['weights'].optimizer
    arch = ow['arch'].optimizer
    assert isinstance(weights, torch.optim.SGD)
    assert isinstance(arch, torch.optim.Adam)
    assert weights.param_groups[0]['weight_decay'] == 3e-4
    assert arch.param_groups[0]['betas'] == (0.5, 0.999)
    assert ow['weights'].clip_grad_kwargs == dict(max_norm=5.0)
    ids = lambda opt: [id(p) for g in opt.param_groups for p in g['params']]
    assert ids(weights) == [id(p) for p in algo.weight_parameters()]
    assert ids(arch) == [id(p) for p in algo.arch_parameters()]

    with pytest.raises(ValueError, match="missing \\['arch'\\]"):
        BilevelOptimWrapperConstructor(dict(weights=cfg['weights']))
    with pytest.raises(ValueError, match="unexpected \\['optimizer'\\]"):
        BilevelOptimWrapperConstructor(
            dict(cfg, optimizer=dict(type='SGD', lr=0.1)))
    with pytest.raises(ValueError, match='paramwise_cfg'):
        BilevelOptimWrapperConstructor(cfg, paramwise_cfg=dict())
    with pytest.raises(TypeError, match='no weight_parameters'):
        BilevelOptimWrapperConstructor(cfg)(nn.Linear(2, 2))
