"""RUAS cooperative search: strategy composition, isolation, end to end."""
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmfusenas.models.mutables import Genotype, build_genotype_net
from mmfusenas.registry import MODELS
from mmfusenas.search import (CooperativeProblem, CooperativeStrategy,
                              DartsFirstOrderStrategy,
                              DartsSecondOrderStrategy)
from mmfusenas.search.strategies import BilevelProblem



@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: intra-op threads only contend on shared CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
XI = 0.1


def _toy():
    """A tiny differentiable scene -> task problem."""
    g = torch.Generator().manual_seed(0)
    p = {
        k: torch.randn(n, generator=g).requires_grad_()
        for k, n in dict(a_s=2, w_s=3, a_t=2, w_t=3).items()
    }
    batches = [(torch.randn(3, generator=g), torch.randn(3, generator=g))
               for _ in range(2)]

    def scene_out(x):
        mix = torch.softmax(p['a_s'], 0)
        return mix[0] * torch.tanh(p['w_s'] * x) + mix[1] * p['w_s'] * x

    def scene_loss(b):
        x, y = b
        return ((scene_out(x) - y)**2).mean() + 0.1 * (p['w_s']**2).sum()

    def task_loss(b):
        x, y = b
        s = scene_out(x)
        mix = torch.softmax(p['a_t'], 0)
        out = mix[0] * p['w_t'] * s + mix[1] * torch.sin(p['w_t'] + s)
        return ((out - y)**2).mean() + 0.1 * (p['w_t']**2).sum()

    problem = CooperativeProblem([p['a_s']], [p['w_s']], [p['a_t']],
                                 [p['w_t']],
                                 train_batch=batches[0],
                                 val_batch=batches[1],
                                 scene_loss=scene_loss,
                                 task_loss=task_loss)
    return p, problem, scene_loss, task_loss, batches


def _unrolled(alpha, weights, loss, train, val):
    """Exact one-step-unrolled DARTS hypergradient (double backward)."""
    grads = torch.autograd.grad(loss(train), weights, create_graph=True)
    virtual = [w - XI * g for w, g in zip(weights, grads)]
    backup = [w.detach().clone() for w in weights]
    # evaluate F at θ' keeping the graph through θ'(α)
    originals = [w.data for w in weights]
    for w, v in zip(weights, virtual):
        w.data = v.detach()
    val_loss = loss(val)
    g_alpha = torch.autograd.grad(val_loss, alpha, retain_graph=True)
    g_w = torch.autograd.grad(val_loss, weights)
    for w, o in zip(weights, originals):
        w.data = o
    # chain rule through θ'(α): - ξ ∇²_{αθ} f · g_w
    mixed = torch.autograd.grad(grads, alpha, grad_outputs=g_w)
    assert all(torch.equal(w, b) for w, b in zip(weights, backup))
    return [a - XI * m for a, m in zip(g_alpha, mixed)]


def test_beta_coupled_scene_gradient_is_the_composition():
    p, problem, scene_loss, task_loss, (tr, val) = _toy()
    beta = 0.7
    strat = CooperativeStrategy(
        beta=beta,
        scene_strategy=dict(type='DartsSecondOrderStrategy', xi=XI),
        task_strategy=dict(type='DartsSecondOrderStrategy', xi=XI))
    before = {k: v.detach().clone() for k, v in p.items()}
    g_s = strat.part_hypergradient(problem, 0).grads[0]
    exact = _unrolled([p['a_s']], [p['w_s']], scene_loss, tr, val)[0]
    coupling = torch.autograd.grad(task_loss(val), p['a_s'])[0]
    torch.testing.assert_close(
        g_s, exact + beta * coupling, rtol=1e-4, atol=1e-6)
    # and literally the component strategies composed
    part = DartsSecondOrderStrategy(xi=XI).hypergradient(problem.parts[0])
    first = DartsFirstOrderStrategy().hypergradient(problem.coupling())
    torch.testing.assert_close(g_s, part.grads[0] + beta * first.grads[0])
    g_t = strat.part_hypergradient(problem, -1).grads[0]
    torch.testing.assert_close(
        g_t,
        _unrolled([p['a_t']], [p['w_t']], task_loss, tr, val)[0],
        rtol=1e-4,
        atol=1e-6)
    # nothing was written or moved
    assert all(torch.equal(p[k], before[k]) for k in p)
    assert all(v.grad is None for v in p.values())
    log = strat.step(problem)
    assert p['a_s'].grad is not None and p['a_t'].grad is not None
    assert p['w_s'].grad is None and p['w_t'].grad is None
    assert {'scene/hypergrad_norm', 'task/hypergrad_norm',
            'scene/coupling/upper_loss'} <= set(log)


def test_independent_is_beta_zero_and_global_is_one_problem():
    p, problem, scene_loss, task_loss, _ = _toy()
    darts = dict(type='DartsSecondOrderStrategy', xi=XI)
    indep = CooperativeStrategy('independent', beta=5.0, scene_strategy=darts)
    zero = CooperativeStrategy('cooperative', beta=0.0, scene_strategy=darts)
    torch.testing.assert_close(
        indep.part_hypergradient(problem, 0).grads,
        zero.part_hypergradient(problem, 0).grads)
    assert 'scene/coupling/upper_loss' not in indep.part_hypergradient(
        problem, 0).log_vars
    glob = CooperativeStrategy('global', scene_strategy=darts)
    joint = BilevelProblem(
        [p['a_s'], p['a_t']], [p['w_s'], p['w_t']],
        train_batch=problem.train_batch,
        val_batch=problem.val_batch,
        loss_fn=lambda b: scene_loss(b) + task_loss(b))
    torch.testing.assert_close(
        glob.hypergradient(problem).grads,
        DartsSecondOrderStrategy(xi=XI).hypergradient(joint).grads)
    with pytest.raises(ValueError, match='joint'):
        glob.part_hypergradient(problem, 0)
    with pytest.raises(ValueError, match='mode'):
        CooperativeStrategy('joint')
    with pytest.raises(ValueError, match='disjoint'):
        CooperativeProblem([p['a_s']], [p['w_s']], [p['a_t']], [p['w_s']],
                           train_batch=None,
                           val_batch=None,
                           scene_loss=scene_loss,
                           task_loss=task_loss)


def _algorithm(**kw):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/ruas/search_ruas_toy.py'))
    cfg.model.update(kw)
    # a small supernet: 1 stage, 1 denoise cell
    cfg.model.architecture.network.scene.num_stages = 1
    cfg.model.architecture.network.denoiser.num_cells = 1
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _optim(model):
    return OptimWrapperDict(
        weights=OptimWrapper(
            torch.optim.SGD(model.weight_parameters(), lr=0.05,
                            momentum=0.9)),
        arch=OptimWrapper(torch.optim.Adam(model.arch_parameters(), lr=0.1)))


def _batch():
    g = torch.Generator().manual_seed(1)
    return dict(inputs=[
        torch.randint(0, 80, (3, 16, 16), dtype=torch.uint8, generator=g)
        for _ in range(2)
    ])


def _snapshot(model):
    return [[p.detach().clone() for p in ps]
            for ps in (model.part_arch_parameters(0),
                       model.part_weight_parameters(0),
                       model.part_arch_parameters(-1),
                       model.part_weight_parameters(-1))]


def _changed(before, after):
    return [
        any(not torch.equal(a, b) for a, b in zip(x, y))
        for x, y in zip(before, after)
    ]


def test_algorithm_alternates_without_mixing_modules():
    model = _algorithm(task_update_interval=2)
    assert model.scene_keys == [f'scene/edge{e}' for e in range(7)]
    assert model.task_keys == [f'denoise/edge{e}' for e in range(7)]
    optim = _optim(model)
    data = dict(train=_batch(), val=_batch())
    s0 = _snapshot(model)
    log = model.train_step(data, optim)  # step 0: scene only
    s1 = _snapshot(model)
    assert _changed(s0, s1) == [True, True, False, False]
    assert 'task/hypergrad_norm' not in log and 'loss_scene' in log
    log = model.train_step(data, optim)  # step 1: scene, then task
    assert _changed(s1, _snapshot(model)) == [True, True, True, True]
    assert {'scene/hypergrad_norm', 'task/hypergrad_norm',
            'loss_denoise'} <= set(log)
    geno = model.derive_genotype()
    assert set(geno.choices) == set(model.scene_keys + model.task_keys)
    assert geno.meta['mode'] == 'cooperative'
    net = build_genotype_net(geno)
    assert type(net).__name__ == 'RUASNet' and net.denoiser is not None


def test_global_mode_one_joint_step():
    model = _algorithm(
        strategy=dict(
            type='CooperativeStrategy',
            mode='global',
            scene_strategy=dict(type='DartsSecondOrderStrategy')))
    s0 = _snapshot(model)
    log = model.train_step(dict(train=_batch(), val=_batch()), _optim(model))
    assert _changed(s0, _snapshot(model)) == [True, True, True, True]
    assert 'global/upper_loss' in log


def test_toy_search_end_to_end(tmp_path):
    """tools/train.py (in this process) searches the toy RUAS cell for its
    2 epochs, exports the genotype, and retrains the fixed network."""
    from helpers.tools import load_tool
    from mmfusenas.testing.toy_data.lowlight import generate_toy_lowlight
    data = tmp_path / 'data'
    generate_toy_lowlight(str(data), num_train=4, num_val=2, seed=0)
    work = tmp_path / 'search'
    train = load_tool('tools/train.py')
    train.main([
        osp.join(ROOT, 'configs/ruas/search_ruas_toy.py'), '--work-dir',
        str(work), '--cfg-options', f'data_root={data}/',
        f'train_dataloader.dataset.data_root={data}/train/',
        f'train_cfg.arch_dataloader.dataset.data_root={data}/train/'
    ])
    latest = work / 'genotypes' / 'latest.yaml'
    geno = Genotype.load(str(latest))
    assert len(geno.choices) == 14 and geno.meta['epoch'] == 2
    net = build_genotype_net(str(latest))
    assert not any('DiffMixedOp' in type(m).__name__ for m in net.modules())
    retrain = tmp_path / 'retrain'
    train.main([
        osp.join(ROOT, 'configs/ruas/retrain_ruas_toy.py'), '--work-dir',
        str(retrain), '--cfg-options', f'model.network.genotype={latest}',
        f'train_dataloader.dataset.data_root={data}/train/',
        f'val_dataloader.dataset.data_root={data}/val/',
        f'test_dataloader.dataset.data_root={data}/val/',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'custom_hooks.0.scene_iters=1'
    ])
    assert (retrain / 'iter_2.pth').exists()
