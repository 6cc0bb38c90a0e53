"""Proxy-based bilevel training: the official alternating step and the
hypergradient variant through the bilevel strategies."""
import copy

import pytest
import torch
from mmengine.structures import BaseDataElement

from mmfusenas.engine import BilevelOptimWrapperConstructor
from mmfusenas.models import HQSRestorer
from mmfusenas.registry import TASK_UTILS
from mmfusenas.search import BilevelProblem, ProxyBilevelAlgorithm


def _restorer_cfg(**kw):
    cfg = dict(
        type='HQSRestorer',
        network=dict(
            type='UnrolledHQSNet',
            num_stages=2,
            proxy=dict(type='NoiseLevelProxy', width=4),
            denoiser=dict(type='DilatedDenoiser', width=4,
                          dilations=(1, 2, 1))),
        guidance_weight=100.0)
    cfg.update(kw)
    return cfg


def _batch(seed, n=2, size=12):
    g = torch.Generator().manual_seed(seed)
    samples, inputs = [], []
    for i in range(n):
        k = torch.rand(5, 5, generator=g)
        samples.append(BaseDataElement(
            gt_img=torch.rand(1, size, size, generator=g),
            kernel=k / k.sum(), noise_sigma=0.01 + 0.02 * i))
        inputs.append(torch.rand(1, size, size, generator=g))
    return dict(inputs=inputs, data_samples=samples)


def _wrappers(alg, lr=1e-2):
    adam = dict(type='Adam', lr=lr)
    return BilevelOptimWrapperConstructor(
        dict(weights=dict(optimizer=adam), arch=dict(optimizer=adam)))(alg)


def test_alternating_step_equals_official_two_optimizer_update():
    torch.manual_seed(0)
    alg = ProxyBilevelAlgorithm(architecture=_restorer_cfg())
    ref = copy.deepcopy(alg.architecture)
    # the two optimizers: stage-1 proxy (guidance) and everything
    assert {id(p) for p in alg.arch_parameters()} == {
        id(p) for p in alg.architecture.network.proxies['0'].parameters()}
    assert len(alg.weight_parameters()) == len(
        list(alg.architecture.parameters()))
    log = alg.train_step(_batch(0), _wrappers(alg))
    assert set(log) == {'loss_guide', 'loss_rec'}

    opt_g = torch.optim.Adam(ref.network.proxies['0'].parameters(), lr=1e-2)
    opt_f = torch.optim.Adam(ref.parameters(), lr=1e-2)
    data = ref.data_preprocessor(_batch(0), True)
    g = ref.loss(**data, terms=('guide', ))['loss_guide']
    g.backward()
    opt_g.step()
    opt_g.zero_grad()
    f = ref.loss(**data, terms=('rec', ))['loss_rec']
    f.backward()
    opt_f.step()
    assert log['loss_guide'].item() == pytest.approx(g.item(), rel=1e-6)
    assert log['loss_rec'].item() == pytest.approx(f.item(), rel=1e-6)
    for (n, p), q in zip(alg.architecture.named_parameters(),
                         ref.parameters()):
        torch.testing.assert_close(p, q, msg=n)


def test_hypergradient_matches_autograd_of_unrolled_objective():
    torch.manual_seed(0)
    xi = 0.5
    alg = ProxyBilevelAlgorithm(
        architecture=_restorer_cfg(guidance_stages='all'),
        scheme='hypergradient',
        strategy=dict(type='DartsSecondOrderStrategy', xi=xi, r=1e-4))
    alg.double()
    arch = alg.architecture
    train = arch.data_preprocessor(_batch(1), True)
    val = arch.data_preprocessor(_batch(2), True)
    for d in (train, val):
        d['inputs'] = d['inputs'].double()
        d['degradation']['kernel'] = d['degradation']['kernel'].double()
        d['guidance_gt'] = d['guidance_gt'].double()
        for s in d['data_samples']:
            s.gt_img = s.gt_img.double()
    upper, lower = alg.upper_parameters(), alg.supervised_proxy_parameters()
    # every proxy is supervised: the upper level is the denoisers
    assert {id(p) for p in upper} == {
        id(p) for p in arch.network.denoisers.parameters()}
    problem = BilevelProblem(
        upper, lower, train_batch=train, val_batch=val,
        train_loss=alg.guidance_loss, val_loss=alg.reconstruction_loss)
    got = alg.strategy.hypergradient(problem).grads

    # reference: F(θ - ξ ∇_θ g(θ, ω), ω) differentiated by autograd
    names = {id(p): n for n, p in arch.named_parameters()}
    g = alg.guidance_loss(train)
    dg = torch.autograd.grad(g, lower, create_graph=True)
    virtual = {names[id(p)]: p - xi * d for p, d in zip(lower, dg)}
    virtual.update({names[id(p)]: p for p in upper})
    arch.active_terms = ('rec', )
    f = torch.func.functional_call(
        arch, virtual, args=(val['inputs'], val['data_samples']),
        kwargs=dict(mode='loss', degradation=val['degradation'],
                    guidance_gt=val['guidance_gt']))['loss_rec']
    want = torch.autograd.grad(f, upper)
    first = torch.autograd.grad(alg.reconstruction_loss(val), upper)
    # the second-order term matters here, and the strategy gets it right
    diff = sum((a - b).norm()**2 for a, b in zip(want, first)).sqrt()
    assert diff > 1e-6
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-9)


def test_hypergradient_train_step_moves_both_levels():
    torch.manual_seed(0)
    alg = ProxyBilevelAlgorithm(
        architecture=_restorer_cfg(guidance_stages='all'),
        scheme='hypergradient',
        strategy=dict(type='DartsFirstOrderStrategy'))
    before = [p.detach().clone() for p in alg.architecture.parameters()]
    log = alg.train_step(dict(train=_batch(0), val=_batch(1)),
                         _wrappers(alg))
    assert {'upper_loss', 'hypergrad_norm', 'loss_guide'} <= set(log)
    moved = [not torch.equal(a, b)
             for a, b in zip(before, alg.architecture.parameters())]
    assert all(moved)
    assert all(p.grad is None for p in alg.architecture.parameters())


def test_errors():
    with pytest.raises(ValueError, match='needs a strategy'):
        ProxyBilevelAlgorithm(architecture=_restorer_cfg(),
                              scheme='hypergradient')
    with pytest.raises(ValueError, match='guidance_weight 0'):
        ProxyBilevelAlgorithm(architecture=_restorer_cfg(guidance_weight=0))
    with pytest.raises(ValueError, match='scheme'):
        ProxyBilevelAlgorithm(architecture=_restorer_cfg(), scheme='x')
    alg = ProxyBilevelAlgorithm(architecture=_restorer_cfg())
    with pytest.raises(TypeError, match="'weights' and 'arch'"):
        alg.train_step(_batch(0), dict(weights=None))
    assert isinstance(alg.architecture, HQSRestorer)
    assert TASK_UTILS.get('DartsSecondOrderStrategy') is not None
