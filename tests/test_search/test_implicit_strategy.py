"""ImplicitStrategy: the exact IFT hypergradient on closed-form problems."""
import pytest
import torch
import torch.nn as nn

from mmfusenas.registry import TASK_UTILS
from mmfusenas.search import (BilevelProblem, DartsSecondOrderStrategy,
                              IASStrategy, ImplicitStrategy)
from mmfusenas.testing.bilevel_problems import (QuadraticProblem,
                                                RidgeProblem1D, cosine)

DT = torch.float64
SOLVERS = [dict(solver='cg', tol=1e-12),
           dict(solver='neumann', max_iters=500, tol=1e-12)]


def _at_optimum(problem, alpha):
    problem.reset(alpha, problem.theta_star(alpha))


@pytest.mark.parametrize('cfg', SOLVERS)
@pytest.mark.parametrize('cls,alpha0', [(RidgeProblem1D, [-1.0]),
                                        (QuadraticProblem, [0.3, -0.2])])
def test_exact_at_the_lower_optimum(cls, alpha0, cfg):
    problem = cls()
    alpha = torch.tensor(alpha0, dtype=DT)
    _at_optimum(problem, alpha)
    opt = torch.optim.SGD([problem.theta], lr=0.15)
    hypergrad = ImplicitStrategy(**cfg).hypergradient(problem.problem(opt))
    torch.testing.assert_close(
        hypergrad.grads[0],
        problem.exact_hypergradient(alpha),
        rtol=1e-8,
        atol=1e-10)
    assert hypergrad.log_vars['ift_residual'] < 1e-6
    assert hypergrad.log_vars['ift_negative_curvature'] == 0


def test_cg_solves_in_at_most_n_iterations():
    """CG on an n-dimensional SPD system is exact after n steps."""
    problem = QuadraticProblem(n=6)
    _at_optimum(problem, torch.tensor([0.3, -0.2], dtype=DT))
    log = ImplicitStrategy(max_iters=50, tol=1e-12).hypergradient(
        problem.problem()).log_vars
    assert log['ift_iters'] <= 6
    assert log['ift_residual'] < 1e-10


def test_damping_solves_the_damped_system():
    """G = ∇_α F − ∇²_{αθ} f (A + δI)⁻¹ ∇_θ F, with ∇²_{αθ} f = −Bᵀ."""
    problem = QuadraticProblem()
    alpha = torch.tensor([0.3, -0.2], dtype=DT)
    _at_optimum(problem, alpha)
    delta = 0.7
    g = ImplicitStrategy(damping=delta, tol=1e-12).hypergradient(
        problem.problem()).grads[0]
    theta = problem.theta.detach()
    v = torch.linalg.solve(problem.A + delta * torch.eye(6, dtype=DT),
                           theta - problem.t)
    expected = problem.gamma * alpha + problem.B.T @ v
    torch.testing.assert_close(g, expected, rtol=1e-9, atol=1e-12)


def test_away_from_the_optimum_it_is_the_ift_formula_at_theta():
    """At any θ the strategy is ∇_α F − ∇²_{αθ}f H⁻¹ ∇_θ F evaluated there
    (checked against dense autograd Hessians on a non-quadratic f)."""
    gen = torch.Generator().manual_seed(1)
    w1 = nn.Parameter(torch.randn(3, 2, generator=gen, dtype=DT))
    w2 = nn.Parameter(torch.randn(2, generator=gen, dtype=DT))
    alpha = nn.Parameter(torch.randn(2, generator=gen, dtype=DT))
    x = torch.randn(8, 3, generator=gen, dtype=DT)
    y = torch.randn(8, generator=gen, dtype=DT)

    def f_of(w1_, w2_, a_):
        pred = torch.tanh(x @ w1_ * a_.exp()) @ w2_
        return ((pred - y)**2).mean() + 0.5 * (w1_**2).sum() + \
            0.5 * (w2_**2).sum()

    def F_of(w1_, w2_, a_):
        pred = torch.tanh(x @ w1_ * a_.exp()) @ w2_
        return ((pred - 0.5 * y)**2).mean() + 0.1 * (a_**2).sum()

    problem = BilevelProblem([alpha], [w1, w2],
                             train_batch=None,
                             val_batch=None,
                             train_loss=lambda _: f_of(w1, w2, alpha),
                             val_loss=lambda _: F_of(w1, w2, alpha))
    got = ImplicitStrategy(damping=1.0, max_iters=100,
                           tol=1e-13).hypergradient(problem).grads[0]

    n1 = w1.numel()

    def f_flat(theta, a_):
        return f_of(theta[:n1].reshape(3, 2), theta[n1:], a_)

    theta = torch.cat([w1.detach().reshape(-1), w2.detach()])
    a = alpha.detach()
    H = torch.autograd.functional.hessian(lambda t: f_flat(t, a), theta)
    mixed = torch.autograd.functional.jacobian(
        lambda a_: torch.autograd.functional.jacobian(
            lambda t: f_flat(t, a_), theta, create_graph=True), a)
    gF = torch.autograd.functional.jacobian(
        lambda t: F_of(t[:n1].reshape(3, 2), t[n1:], a), theta)
    gFa = torch.autograd.functional.jacobian(
        lambda a_: F_of(w1.detach(), w2.detach(), a_), a)
    v = torch.linalg.solve(H + torch.eye(len(theta), dtype=DT), gF)
    expected = gFa - mixed.T @ v
    torch.testing.assert_close(got, expected, rtol=1e-8, atol=1e-10)
    # untouched θ and θ.grad
    assert w1.grad is None and w2.grad is None


# the Neumann series on the dense quadratic takes ~9 s (hundreds of
# Hessian-vector products per α step): slow; the Neumann solver stays in
# the default suite on the ridge problem and in
# test_exact_at_the_lower_optimum (the same hypergradient to 1e-8)
@pytest.mark.parametrize('cls,alpha0,lr_w,cfg', [
    (RidgeProblem1D, -2.0, 0.2, SOLVERS[0]),
    (RidgeProblem1D, -2.0, 0.2, SOLVERS[1]),
    (QuadraticProblem, 0.0, 0.15, SOLVERS[0]),
    pytest.param(QuadraticProblem, 0.0, 0.15, SOLVERS[1],
                 marks=pytest.mark.slow),
])
def test_alternating_search_reaches_alpha_star(cls, alpha0, lr_w, cfg):
    problem = cls()
    strategy = TASK_UTILS.build(dict(type='ImplicitStrategy', **cfg))
    a0 = torch.full_like(problem.alpha, alpha0)
    traj = problem.alternate(
        strategy, a0, outer=300, inner=10, lr_w=lr_w, lr_a=0.05,
        lr_decay=0.99)
    torch.testing.assert_close(
        torch.tensor(traj['alpha'][-1], dtype=DT),
        problem.alpha_star,
        rtol=0,
        atol=1e-4)
    assert traj['gap'][-1] < 1e-9
    assert traj['gap'][0] > 1e-3  # it did have to move


def test_the_other_strategies_do_not_reach_alpha_star_on_the_quadratic():
    """The control: the same search with IAS (both variants) and DARTS-2nd
    stops elsewhere on the dense-Hessian quadratic."""
    problem = QuadraticProblem()
    a0 = torch.zeros_like(problem.alpha)
    for strategy in (IASStrategy(), IASStrategy(variant='official'),
                     DartsSecondOrderStrategy()):
        traj = problem.alternate(
            strategy, a0, outer=300, inner=10, lr_w=0.15, lr_a=0.05,
            lr_decay=0.99)
        assert traj['gap'][-1] > 1e-3, type(strategy).__name__


def test_ias_paper_points_the_wrong_way_on_ridge():
    problem = RidgeProblem1D()
    a0 = torch.tensor([-2.0], dtype=DT)
    problem.reset(a0)
    opt = problem.inner_steps(50, 0.2)
    exact = problem.exact_hypergradient(a0)
    ias = IASStrategy().hypergradient(problem.problem(opt)).grads[0]
    implicit = ImplicitStrategy().hypergradient(problem.problem(opt)).grads[0]
    assert cosine(ias, exact) == pytest.approx(-1.0)
    assert cosine(implicit, exact) == pytest.approx(1.0)


def test_negative_curvature_is_flagged():
    """f concave in θ: CG meets pᵀHp < 0, stops and says so."""
    theta = nn.Parameter(torch.tensor([0.5, -0.3], dtype=DT))
    alpha = nn.Parameter(torch.tensor([0.2], dtype=DT))
    problem = BilevelProblem(
        [alpha], [theta],
        train_batch=None,
        val_batch=None,
        train_loss=lambda _: -(theta**2).sum() + alpha.sum() * theta.sum(),
        val_loss=lambda _: ((theta - 1)**2).sum())
    log = ImplicitStrategy().hypergradient(problem).log_vars
    assert log['ift_negative_curvature'] == 1.0
    # damping makes it positive definite: H + δI = (δ − 2) I
    hyper = ImplicitStrategy(damping=4.0).hypergradient(problem)
    assert hyper.log_vars['ift_negative_curvature'] == 0.0
    v = 2 * (theta.detach() - 1) / 2.0
    torch.testing.assert_close(
        hyper.grads[0], -v.sum().reshape(1), rtol=1e-10, atol=1e-12)


def test_writes_only_alpha_grad_and_restores_nothing_else():
    problem = QuadraticProblem()
    problem.reset(torch.tensor([0.3, -0.2], dtype=DT))
    problem.theta.grad = torch.ones_like(problem.theta)
    before = problem.theta.detach().clone()
    log = ImplicitStrategy().step(problem.problem())
    assert torch.equal(problem.theta.detach(), before)
    assert torch.equal(problem.theta.grad, torch.ones_like(problem.theta))
    assert problem.alpha.grad is not None
    assert set(log) >= {'upper_loss', 'lower_loss', 'ift_iters',
                        'ift_residual', 'hypergrad_norm'}


def test_a_nan_upper_loss_is_refused():
    """CG on a NaN right-hand side returns v = 0: with F independent of α
    the hypergradient would be a finite 0, which neither the hypergradient
    check nor the optimizer's step guard would see; ``scalar_loss``
    refuses the loss."""
    problem = RidgeProblem1D()
    nan_problem = problem.problem()
    nan_problem.val_loss = lambda batch: problem.F() * float('nan')
    with pytest.raises(FloatingPointError,
                       match='ImplicitStrategy: upper loss on the '
                       'validation batch is not finite: nan'):
        ImplicitStrategy().step(nan_problem)
    assert problem.alpha.grad is None


def test_argument_errors():
    with pytest.raises(ValueError, match='solver'):
        ImplicitStrategy(solver='lu')
    with pytest.raises(ValueError, match='max_iters'):
        ImplicitStrategy(max_iters=0)
    with pytest.raises(ValueError, match='damping'):
        ImplicitStrategy(damping=-1)
    with pytest.raises(ValueError, match='neumann_lr'):
        ImplicitStrategy(solver='cg', neumann_lr=0.1)
    problem = QuadraticProblem()
    with pytest.raises(ValueError, match='weight optimizer'):
        ImplicitStrategy(solver='neumann').hypergradient(problem.problem())
    # losses without α
    theta = nn.Parameter(torch.ones(2, dtype=DT))
    alpha = nn.Parameter(torch.ones(1, dtype=DT))
    bad = BilevelProblem([alpha], [theta],
                         train_batch=None,
                         val_batch=None,
                         loss_fn=lambda _: (theta**2).sum())
    with pytest.raises(ValueError, match='do not depend on any of the arch'):
        ImplicitStrategy().hypergradient(bad)
