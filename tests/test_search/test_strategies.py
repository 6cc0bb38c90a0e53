"""Bilevel search strategies and the operation-sensitive regulariser.

The strategies are checked against closed forms on ridge regression,

    f(θ, α) = ‖X_t θ - y_t‖² / n_t + Σ_i exp(α_i) θ_i²     (lower, train)
    F(θ, α) = ‖X_v θ - y_v‖² / n_v [+ γ/2 ‖α‖²]            (upper, val)

whose derivatives are

    ∇_θ f = 2 X_tᵀ(X_t θ - y_t)/n_t + 2 e^α ⊙ θ,   ∇_α f = e^α ⊙ θ²,
    ∇_θ F = 2 X_vᵀ(X_v θ - y_v)/n_v,               ∇_α F = γ α (or 0),
    ∇²_{αθ} f · v = 2 e^α ⊙ θ ⊙ v,

and θ*(α) = (X_tᵀX_t/n_t + diag e^α)⁻¹ X_tᵀ y_t / n_t. Everything is float64.
"""
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from mmfusenas.registry import TASK_UTILS
from mmfusenas.search import (BilevelProblem, DartsFirstOrderStrategy,
                              DartsSecondOrderStrategy, IASStrategy,
                              operation_sensitive_reg)
from mmfusenas.search.strategies import (finite_difference_hvp,
                                         replaced_values)

DT = torch.float64


def _randn(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=DT)


class Ridge:
    """Ridge regression with per-feature log-regularisation α (d,).

    θ is held in two parameters (the first 3 and the last d - 3 features) so
    that the strategies' handling of several tensors is exercised.
    """

    def __init__(self, gamma=0.0, d=5, n_t=12, n_v=40, seed=0):
        gen = torch.Generator().manual_seed(seed)
        w = _randn(gen, d)
        self.Xt, self.Xv = _randn(gen, n_t, d), _randn(gen, n_v, d)
        self.yt = self.Xt @ w + _randn(gen, n_t)
        self.yv = self.Xv @ w + _randn(gen, n_v)
        self.gamma = gamma
        self.theta_a = nn.Parameter(_randn(gen, 3))
        self.theta_b = nn.Parameter(_randn(gen, d - 3))
        self.alpha = nn.Parameter(0.5 * _randn(gen, d))
        self.train_batch = (self.Xt, self.yt)
        self.val_batch = (self.Xv, self.yv)

    @property
    def weights(self):
        return [self.theta_a, self.theta_b]

    def theta(self):
        return torch.cat([self.theta_a, self.theta_b])

    # losses as functions of explicit tensors (for autograd references)
    @staticmethod
    def f_of(theta, alpha, batch):
        X, y = batch
        return ((X @ theta - y)**2).mean() + (alpha.exp() * theta**2).sum()

    def F_of(self, theta, alpha, batch):
        X, y = batch
        loss = ((X @ theta - y)**2).mean()
        if self.gamma:
            loss = loss + 0.5 * self.gamma * (alpha**2).sum()
        return loss

    # the callables handed to the strategies
    def f(self, batch):
        return self.f_of(self.theta(), self.alpha, batch)

    def F(self, batch):
        return self.F_of(self.theta(), self.alpha, batch)

    def problem(self, **kwargs):
        if 'loss_fn' not in kwargs:
            kwargs.setdefault('train_loss', self.f)
            kwargs.setdefault('val_loss', self.F)
        return BilevelProblem([self.alpha],
                              self.weights,
                              train_batch=self.train_batch,
                              val_batch=self.val_batch,
                              **kwargs)

    # closed forms (no autograd)
    def grad_theta_f(self, theta):
        X, y = self.train_batch
        a = self.alpha.detach()
        return 2 * X.T @ (X @ theta - y) / len(y) + 2 * a.exp() * theta

    def grad_alpha_f(self, theta):
        return self.alpha.detach().exp() * theta**2

    def grad_theta_F(self, theta):
        X, y = self.val_batch
        return 2 * X.T @ (X @ theta - y) / len(y)

    def grad_alpha_F(self):
        return self.gamma * self.alpha.detach()

    def mixed_hvp(self, theta, v):
        return 2 * self.alpha.detach().exp() * theta * v


def _flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def _snapshot(params):
    return [(p.detach().clone(), p.grad, p.grad.clone()) for p in params]


def _assert_untouched(params, snapshot):
    for p, (data, grad, grad_copy) in zip(params, snapshot):
        assert torch.equal(p.detach(), data)
        assert p.grad is grad and torch.equal(p.grad, grad_copy)


# ---------------------------------------------------------------- first order
@pytest.mark.parametrize('single_loss_fn', [False, True])
def test_first_order_is_grad_alpha_of_upper(single_loss_fn):
    ridge = Ridge(gamma=0.3)
    kwargs = dict(loss_fn=ridge.F) if single_loss_fn else {}
    hypergrad = DartsFirstOrderStrategy().hypergradient(
        ridge.problem(**kwargs))
    expected, = torch.autograd.grad(ridge.F(ridge.val_batch), [ridge.alpha])
    assert torch.equal(hypergrad.grads[0], expected)
    torch.testing.assert_close(
        hypergrad.grads[0], ridge.grad_alpha_F(), rtol=0, atol=1e-15)
    assert hypergrad.log_vars['upper_loss'] == ridge.F(ridge.val_batch).item()
    assert hypergrad.log_vars['hypergrad_norm'] == pytest.approx(
        expected.norm().item(), rel=1e-14)


def test_first_order_rejects_upper_loss_without_alpha():
    ridge = Ridge(gamma=0.0)  # F(θ) does not depend on α
    with pytest.raises(
            ValueError,
            match='DartsFirstOrderStrategy: the losses '
            'do not depend on any of the architecture'):
        DartsFirstOrderStrategy().step(ridge.problem())


# --------------------------------------------------------------- second order
def _unrolled_by_autograd(ridge, xi, extra):
    """d/dα F(θ - ξ ⊙ (∇_θ f(θ, α) + extra), α), autograd through the step."""
    theta = ridge.theta().detach().requires_grad_()
    g_theta, = torch.autograd.grad(
        ridge.f_of(theta, ridge.alpha, ridge.train_batch),
        theta,
        create_graph=True)
    virtual = theta - xi * (g_theta + extra)
    grad, = torch.autograd.grad(
        ridge.F_of(virtual, ridge.alpha, ridge.val_batch), ridge.alpha)
    return grad


def _unrolled_closed_form(ridge, xi, extra):
    theta = ridge.theta().detach()
    virtual = theta - xi * (ridge.grad_theta_f(theta) + extra)
    return ridge.grad_alpha_F() - ridge.mixed_hvp(
        theta, xi * ridge.grad_theta_F(virtual))


@pytest.mark.parametrize('gamma', [0.0, 0.3])
@pytest.mark.parametrize(
    'mode', ['explicit_xi', 'group_lrs', 'sgd_state', 'unroll_decay'])
def test_second_order_matches_one_step_unrolled_hypergradient(gamma, mode):
    ridge = Ridge(gamma=gamma)
    d = ridge.theta().numel()
    extra = torch.zeros(d, dtype=DT)
    if mode == 'explicit_xi':
        strategy, kwargs = DartsSecondOrderStrategy(xi=0.05), {}
        xi = torch.full((d, ), 0.05, dtype=DT)
    elif mode == 'group_lrs':  # ξ read per parameter group
        optimizer = torch.optim.SGD([
            dict(params=[ridge.theta_a], lr=0.1),
            dict(params=[ridge.theta_b], lr=0.04)
        ])
        strategy = DartsSecondOrderStrategy()
        kwargs = dict(weight_optimizer=optimizer)
        xi = torch.tensor([0.1] * 3 + [0.04] * (d - 3), dtype=DT)
    else:  # DARTS's θ - ξ (∇f + wd θ + μ buf) after two real SGD steps
        # (unroll_decay: wd of the unrolled step only, as HBL's architect)
        decay = 0.0 if mode == 'unroll_decay' else 1e-2
        optimizer = torch.optim.SGD(
            ridge.weights, lr=0.05, momentum=0.9, weight_decay=decay)
        for _ in range(2):
            optimizer.zero_grad()
            ridge.f(ridge.train_batch).backward()
            optimizer.step()
        ridge.alpha.grad = None
        buf = _flat(
            [optimizer.state[p]['momentum_buffer'] for p in ridge.weights])
        assert buf.abs().min() > 0
        extra = 1e-2 * ridge.theta().detach() + 0.9 * buf
        strategy = DartsSecondOrderStrategy(
            use_optimizer_state=True,
            unroll_weight_decay=1e-2 if mode == 'unroll_decay' else None)
        kwargs = dict(weight_optimizer=optimizer)
        xi = torch.full((d, ), 0.05, dtype=DT)

    hypergrad = strategy.hypergradient(ridge.problem(**kwargs))
    closed_form = _unrolled_closed_form(ridge, xi, extra)
    by_autograd = _unrolled_by_autograd(ridge, xi, extra)
    torch.testing.assert_close(closed_form, by_autograd, rtol=1e-12, atol=0)
    # ∇_α f is quadratic in θ here, so the central FD is exact up to rounding
    torch.testing.assert_close(
        hypergrad.grads[0], closed_form, rtol=1e-9, atol=1e-12)
    theta = ridge.theta().detach()
    virtual = theta - xi * (ridge.grad_theta_f(theta) + extra)
    assert hypergrad.log_vars['upper_loss'] == pytest.approx(
        ridge.F_of(virtual, ridge.alpha, ridge.val_batch).item(), rel=1e-13)
    assert hypergrad.log_vars['lower_loss'] == pytest.approx(
        ridge.f(ridge.train_batch).item(), rel=1e-13)


def test_second_order_with_zero_xi_is_first_order():
    ridge = Ridge(gamma=0.3)
    second = DartsSecondOrderStrategy(xi=0.0).hypergradient(ridge.problem())
    first = DartsFirstOrderStrategy().hypergradient(ridge.problem())
    assert torch.equal(second.grads[0], first.grads[0])


# ---------------------------------------------------------- Hessian–vector FD
def test_fd_hvp_is_exact_on_ridge():
    ridge = Ridge()
    gen = torch.Generator().manual_seed(1)
    v = [_randn(gen, 3), _randn(gen, 2)]
    before = [p.detach().clone() for p in ridge.weights]
    hvp, = finite_difference_hvp([ridge.alpha], ridge.weights, ridge.f,
                                 ridge.train_batch, v)
    for p, b in zip(ridge.weights, before):
        assert torch.equal(p.detach(), b)
    expected = ridge.mixed_hvp(ridge.theta().detach(), _flat(v))
    torch.testing.assert_close(hvp, expected, rtol=1e-10, atol=1e-13)


def _exact_hvp(arch, weights, loss, v):
    """∇_α ⟨∇_θ L, v⟩ by double backward."""
    g_theta = torch.autograd.grad(loss, weights, create_graph=True)
    dot = sum((g * u).sum() for g, u in zip(g_theta, v))
    return torch.autograd.grad(dot, arch)


def test_fd_hvp_matches_double_backward_on_nonlinear_loss():
    gen = torch.Generator().manual_seed(2)
    w1, w2 = _randn(gen, 4, 3), _randn(gen, 2, 3)
    theta1, theta2 = nn.Parameter(_randn(gen, 4)), nn.Parameter(_randn(gen, 2))
    alpha1, alpha2 = nn.Parameter(_randn(gen, 3)), nn.Parameter(_randn(gen, 3))

    def loss(batch):  # ∇_α L is not polynomial in θ
        h1 = torch.tanh(w1 * torch.outer(theta1, alpha1.softmax(0)))
        h2 = torch.sin(w2 * torch.outer(theta2, alpha2))
        return (h1.sum() + h2.sum())**2 * batch

    arch, weights = [alpha1, alpha2], [theta1, theta2]
    v = [_randn(gen, 4), _randn(gen, 2)]
    exact = _flat(_exact_hvp(arch, weights, loss(0.5), v))
    errors = []
    for r in (0.01, 0.005):
        fd = _flat(finite_difference_hvp(arch, weights, loss, 0.5, v, r=r))
        torch.testing.assert_close(fd, exact, rtol=1e-4, atol=1e-6)
        errors.append((fd - exact).norm().item())
    # central differences: halving r divides the error by 4
    assert 3.8 < errors[0] / errors[1] < 4.2


def test_replaced_values_restores_bit_exactly_on_error():
    p = nn.Parameter(torch.tensor([0.1, 0.2, 0.3], dtype=DT))
    before = p.detach().clone()
    with pytest.raises(RuntimeError, match='inside'):
        with replaced_values([p], [torch.tensor([1., 2., 3.], dtype=DT)]):
            assert p.tolist() == [1., 2., 3.]
            raise RuntimeError('inside')
    assert torch.equal(p.detach(), before)


# ------------------------------------------------------------------------ IAS
def _eq4_by_hand(ridge):
    theta = ridge.theta().detach()
    g_theta_F, g_theta_f = ridge.grad_theta_F(theta), ridge.grad_theta_f(theta)
    c = g_theta_F @ g_theta_f / (g_theta_f @ g_theta_f)
    return c, ridge.grad_alpha_F(), ridge.grad_alpha_f(theta)


@pytest.mark.parametrize('gamma', [0.0, 0.3])
def test_ias_paper_is_eq4(gamma):
    ridge = Ridge(gamma=gamma)
    hypergrad = IASStrategy().hypergradient(ridge.problem())
    c, g_alpha_F, g_alpha_f = _eq4_by_hand(ridge)
    torch.testing.assert_close(
        hypergrad.grads[0], g_alpha_F - c * g_alpha_f, rtol=1e-12, atol=0)
    assert hypergrad.log_vars['gn_coef'] == pytest.approx(c.item(), rel=1e-12)
    assert hypergrad.log_vars['upper_loss'] == ridge.F(ridge.val_batch).item()
    assert hypergrad.log_vars['lower_loss'] == ridge.f(
        ridge.train_batch).item()


@pytest.mark.parametrize('gamma', [0.0, 0.3])
@pytest.mark.parametrize('eta', [None, 0.2])
def test_ias_official_is_released_code(gamma, eta):
    ridge = Ridge(gamma=gamma)
    optimizer = torch.optim.SGD(ridge.weights, lr=0.05)
    hypergrad = IASStrategy(
        variant='official',
        eta=eta).hypergradient(ridge.problem(weight_optimizer=optimizer))
    c, g_alpha_F, g_alpha_f = _eq4_by_hand(ridge)
    step = 0.05 if eta is None else eta
    torch.testing.assert_close(
        hypergrad.grads[0],
        g_alpha_F + step * c * g_alpha_f,
        rtol=1e-12,
        atol=0)


def test_ias_with_one_loss_on_two_batches():
    """TIM: F and f are the same search loss on the val / train batch."""
    ridge = Ridge()
    hypergrad = IASStrategy().hypergradient(ridge.problem(loss_fn=ridge.f))
    theta = ridge.theta().detach()
    g_theta_f = ridge.grad_theta_f(theta)
    Xv, yv = ridge.val_batch
    g_theta_F = 2 * Xv.T @ (Xv @ theta - yv) / len(yv) + \
        2 * ridge.alpha.detach().exp() * theta
    c = g_theta_F @ g_theta_f / (g_theta_f @ g_theta_f)
    g_alpha = ridge.grad_alpha_f(theta)  # the same for both batches
    torch.testing.assert_close(
        hypergrad.grads[0], g_alpha - c * g_alpha, rtol=1e-12, atol=0)


def test_ias_on_ridge_is_not_the_implicit_gradient():
    """Eq. 4 replaces ∇²f by the rank-one ∇f∇fᵀ. On 1-D ridge this gives
    G_IAS / G_implicit = θ / (2(θ - θ*)) at the current θ: negative (the
    wrong direction) whenever θ lies between 0 and θ*, as it does all along
    gradient descent from θ = 0."""
    ridge = Ridge(d=4)  # use only feature 0: a 1-D problem
    X, y = ridge.Xt[:, :1], ridge.yt
    Xv, yv = ridge.Xv[:, :1], ridge.yv
    theta = nn.Parameter(torch.tensor([0.0], dtype=DT))
    alpha = nn.Parameter(torch.tensor(-1.0, dtype=DT))
    a_t = (X**2).mean()
    theta_star = (X[:, 0] * y).mean() / (a_t + alpha.exp())
    with torch.no_grad():
        theta.fill_(0.6 * theta_star)

    def f(batch):
        return ((X @ theta - y)**2).mean() + alpha.exp() * theta.pow(2).sum()

    def F(batch):
        return ((Xv @ theta - yv)**2).mean()

    hypergrad = IASStrategy().hypergradient(
        BilevelProblem([alpha], [theta],
                       train_batch=None,
                       val_batch=None,
                       train_loss=f,
                       val_loss=F))
    t = theta.detach()[0]
    g_theta_F = 2 * (Xv[:, 0] * (Xv[:, 0] * t - yv)).mean()
    implicit = -2 * alpha.exp().detach() * t * g_theta_F / (
        2 * (a_t + alpha.exp().detach()))
    ratio = (hypergrad.grads[0] / implicit).item()
    assert ratio == pytest.approx(
        (t / (2 * (t - theta_star))).item(), rel=1e-10)
    assert ratio == pytest.approx(-0.75, rel=1e-10)


# ---------------------------------------- isolation of the two levels, α step
STRATEGIES = [
    (DartsFirstOrderStrategy, {}),
    (DartsSecondOrderStrategy, {}),
    (DartsSecondOrderStrategy, dict(use_optimizer_state=True)),
    (IASStrategy, {}),
    (IASStrategy, dict(variant='official')),
]


@pytest.mark.parametrize('strategy_cls,cfg', STRATEGIES)
def test_strategy_writes_only_alpha_grad(strategy_cls, cfg):
    ridge = Ridge(gamma=0.3)
    optimizer = torch.optim.SGD(ridge.weights, lr=0.05, momentum=0.9)
    optimizer.zero_grad()
    ridge.f(ridge.train_batch).backward()
    optimizer.step()  # a momentum buffer exists
    gen = torch.Generator().manual_seed(3)
    for p in ridge.weights:  # sentinel weight gradients
        p.grad = _randn(gen, *p.shape)
    ridge.alpha.grad = None
    snapshot = _snapshot(ridge.weights)
    strategy = TASK_UTILS.build(dict(type=strategy_cls.__name__, **cfg))
    assert isinstance(strategy, strategy_cls)
    problem = ridge.problem(weight_optimizer=optimizer)

    hypergrad = strategy.hypergradient(problem)  # pure: writes nothing
    assert ridge.alpha.grad is None
    _assert_untouched(ridge.weights, snapshot)

    log_vars = strategy.step(problem)
    _assert_untouched(ridge.weights, snapshot)
    assert torch.equal(ridge.alpha.grad, hypergrad.grads[0])
    assert log_vars == hypergrad.log_vars

    # the α optimizer then moves α against the hypergradient
    alpha_before = ridge.alpha.detach().clone()
    torch.optim.SGD([ridge.alpha], lr=1e-3).step()
    torch.testing.assert_close(
        ridge.alpha.detach(),
        alpha_before - 1e-3 * hypergrad.grads[0],
        rtol=0,
        atol=1e-15)
    _assert_untouched(ridge.weights, snapshot)


def test_second_order_step_decreases_the_unrolled_objective():
    ridge = Ridge(gamma=0.3)
    xi = torch.full((5, ), 0.05, dtype=DT)
    zero = torch.zeros(5, dtype=DT)

    def unrolled_objective():
        theta = ridge.theta().detach()
        virtual = theta - xi * ridge.grad_theta_f(theta)
        return ridge.F_of(virtual, ridge.alpha.detach(), ridge.val_batch)

    before = unrolled_objective()
    DartsSecondOrderStrategy(xi=0.05).step(ridge.problem())
    expected = _unrolled_closed_form(ridge, xi, zero)
    torch.optim.SGD([ridge.alpha], lr=1e-3).step()
    decrease = (before - unrolled_objective()).item()
    # first-order Taylor: ΔF ≈ lr ‖G‖²
    assert decrease == pytest.approx(
        1e-3 * (expected @ expected).item(), rel=1e-2)


# ------------------------------------------------ alternating search converges
def _alternate(strategy, f, F, theta, alpha, steps, inner, lr_w, lr_a):
    """Alg. 1: ``inner`` SGD steps on θ, then one Adam step on α."""
    w_opt = torch.optim.SGD([theta], lr=lr_w)
    a_opt = torch.optim.Adam([alpha], lr=lr_a)
    for _ in range(steps):
        for _ in range(inner):
            w_opt.zero_grad()
            f(None).backward()
            w_opt.step()
        a_opt.zero_grad()
        strategy.step(
            BilevelProblem([alpha], [theta],
                           train_batch=None,
                           val_batch=None,
                           train_loss=f,
                           val_loss=F,
                           weight_optimizer=w_opt))
        a_opt.step()
    return alpha.item()


def test_darts_second_order_search_finds_the_bilevel_optimum():
    """Whitened ridge (X_tᵀX_t/n = I): ∇²_θθ f ∝ I, so the one-step unrolled
    hypergradient vanishes exactly where dF(θ*(α))/dα does."""
    gen = torch.Generator().manual_seed(0)
    d, n_t, n_v = 4, 8, 40
    q, _ = torch.linalg.qr(_randn(gen, n_t, d))
    Xt = q * math.sqrt(n_t)
    w = _randn(gen, d)
    yt = Xt @ w + 2 * _randn(gen, n_t)
    Xv = _randn(gen, n_v, d)
    yv = Xv @ w + 2 * _randn(gen, n_v)

    def val_of_optimum(a):  # F(θ*(α)) in closed form
        theta = Xt.T @ yt / n_t / (1 + math.exp(a))
        return ((Xv @ theta - yv)**2).mean().item()

    grid = torch.linspace(-6, 4, 10001, dtype=DT).tolist()
    alpha_star = min(grid, key=val_of_optimum)
    assert alpha_star == pytest.approx(-0.934, abs=1e-9)

    theta = nn.Parameter(torch.zeros(d, dtype=DT))
    alpha = nn.Parameter(torch.tensor(-3.0, dtype=DT))
    found = _alternate(
        DartsSecondOrderStrategy(),
        lambda _: ((Xt @ theta - yt)**2).mean() + alpha.exp() *
        (theta**2).sum(),
        lambda _: ((Xv @ theta - yv)**2).mean(),
        theta,
        alpha,
        steps=200,
        inner=10,
        lr_w=0.2,
        lr_a=0.05)
    assert found == pytest.approx(alpha_star, abs=2e-3)
    assert val_of_optimum(-3.0) - val_of_optimum(alpha_star) > 0.5
    assert val_of_optimum(found) - val_of_optimum(alpha_star) < 1e-6


@pytest.mark.parametrize(
    'strategy', [IASStrategy(), DartsSecondOrderStrategy()])
def test_ias_search_finds_the_bilevel_optimum(strategy):
    """A lower level that is one least-squares residual, f = ½(aᵀθ - φ(α))²
    with φ = 2 tanh: there the Gauss–Newton Eq. 4 is the exact implicit
    gradient, φ'(α)⟨a, ∇_θF⟩/‖a‖². Gradient descent from θ = 0 reaches
    θ*(α) = a φ(α)/‖a‖², so F(θ*) = ½‖θ* - t‖² is minimal at
    φ(α*) = ⟨a, t⟩, α* = atanh(0.6)."""
    a = torch.tensor([1., -2., 0.5], dtype=DT)
    t = torch.tensor([0.3, -0.4, 0.2], dtype=DT)
    theta = nn.Parameter(torch.zeros(3, dtype=DT))
    alpha = nn.Parameter(torch.tensor(-1.0, dtype=DT))
    found = _alternate(
        strategy,
        lambda _: 0.5 * (a @ theta - 2 * torch.tanh(alpha))**2,
        lambda _: 0.5 * ((theta - t)**2).sum(),
        theta,
        alpha,
        steps=200,
        inner=5,
        lr_w=0.05,
        lr_a=0.05)
    assert found == pytest.approx(math.atanh(0.6), abs=1e-3)


# -------------------------------------------------------------------- errors
def test_problem_validation():
    ridge = Ridge()
    common = dict(train_batch=None, val_batch=None, loss_fn=ridge.f)
    with pytest.raises(ValueError, match='arch_params is empty'):
        BilevelProblem([], ridge.weights, **common)
    with pytest.raises(ValueError, match='weight_params is empty'):
        BilevelProblem([ridge.alpha], iter([]), **common)
    with pytest.raises(ValueError, match='must be disjoint'):
        BilevelProblem([ridge.alpha], ridge.weights + [ridge.alpha], **common)
    with pytest.raises(ValueError, match='lists a tensor twice'):
        BilevelProblem([ridge.alpha, ridge.alpha], ridge.weights, **common)
    with pytest.raises(ValueError, match='requires_grad=True'):
        BilevelProblem([ridge.alpha.detach()], ridge.weights, **common)
    with pytest.raises(ValueError, match='not both'):
        BilevelProblem([ridge.alpha],
                       ridge.weights,
                       train_loss=ridge.f,
                       **common)
    with pytest.raises(ValueError, match='needs train_loss and val_loss'):
        BilevelProblem([ridge.alpha],
                       ridge.weights,
                       train_batch=None,
                       val_batch=None,
                       train_loss=ridge.f)


@pytest.mark.parametrize('strategy', [
    DartsFirstOrderStrategy(),
    DartsSecondOrderStrategy(xi=0.1),
    IASStrategy()
])
def test_losses_without_alpha_are_rejected(strategy):
    ridge = Ridge()

    def no_alpha(batch):
        return ((batch[0] @ ridge.theta() - batch[1])**2).mean()

    with pytest.raises(
            ValueError,
            match=f'{strategy.name}: the losses do '
            'not depend on any of the architecture parameters'):
        strategy.step(ridge.problem(loss_fn=no_alpha))
    assert ridge.alpha.grad is None


@pytest.mark.parametrize('strategy',
                         [DartsSecondOrderStrategy(xi=0.1),
                          IASStrategy()])
def test_lower_loss_without_weights_is_rejected(strategy):
    ridge = Ridge(gamma=0.3)
    with pytest.raises(
            ValueError,
            match=f'{strategy.name}: the lower loss '
            'does not depend on any of the weight parameters'):
        strategy.step(ridge.problem(train_loss=lambda b: ridge.alpha.sum()))


@pytest.mark.parametrize('strategy', [
    DartsFirstOrderStrategy(),
    DartsSecondOrderStrategy(xi=0.1),
    IASStrategy()
])
def test_non_finite_values_are_refused_by_the_step_guard(strategy):
    """A strategy does not look at NaN / Inf (no host sync): a NaN gradient
    or loss reaches α.grad, and the α optimizer's step guard refuses the
    step, naming α, with α unchanged."""
    from mmengine.optim import OptimWrapper

    from mmfusenas.engine.hooks import FiniteStepGuardHook
    ridge = Ridge()

    def nan_grad(batch):  # finite value, NaN gradient: d√x/dx at 0, times 0
        return ridge.f(batch) + torch.sqrt((ridge.alpha * 0).sum())

    arch = torch.optim.SGD([ridge.alpha], lr=0.1)
    guard = FiniteStepGuardHook()
    guard.before_train(SimpleNamespace(
        model=nn.ParameterList([ridge.alpha]), optim_wrapper=OptimWrapper(
            arch), iter=3, logger=None))
    before = ridge.alpha.detach().clone()
    for problem in (ridge.problem(loss_fn=nan_grad), ridge.problem(
            val_loss=lambda b: ridge.f(b) * float('nan'))):
        log = strategy.step(problem)
        assert not torch.isfinite(ridge.alpha.grad).all()
        assert all(isinstance(v, torch.Tensor) and not v.requires_grad
                   for v in log.values())
        with pytest.raises(FloatingPointError, match=r'non-finite gradient '
                           r'of 1 parameter\(s\) \(0\).* iteration 3'):
            arch.step()
        assert torch.equal(ridge.alpha.detach(), before)
    guard.remove()
    with pytest.raises(
            TypeError,
            match=f'{strategy.name}: .* must be a '
            'one-element tensor'):
        strategy.step(ridge.problem(loss_fn=lambda b: b[1]))


def test_ias_zero_lower_gradient():
    theta = nn.Parameter(torch.tensor(0.5, dtype=DT))
    alpha = nn.Parameter(torch.tensor(0.5, dtype=DT))
    kwargs = dict(
        train_batch=None,
        val_batch=None,
        train_loss=lambda b: 0.5 * (theta - alpha)**2,  # stationary
        val_loss=lambda b: (theta - 1)**2)
    with pytest.raises(FloatingPointError, match='0/0; set eps > 0'):
        IASStrategy().step(BilevelProblem([alpha], [theta], **kwargs))
    IASStrategy(eps=1e-12).step(BilevelProblem([alpha], [theta], **kwargs))
    assert alpha.grad.item() == 0.0


def test_optimizer_related_errors():
    ridge = Ridge(gamma=0.3)
    with pytest.raises(
            ValueError,
            match='DartsSecondOrderStrategy needs the '
            'weight optimizer'):
        DartsSecondOrderStrategy().step(ridge.problem())
    partial = torch.optim.SGD([ridge.theta_a], lr=0.1)
    with pytest.raises(
            ValueError,
            match=r'weight_params\[1\] \(shape \(2,\)\)'
            ' is not optimised'):
        DartsSecondOrderStrategy().step(
            ridge.problem(weight_optimizer=partial))
    adam = torch.optim.Adam(ridge.weights, lr=0.1)
    with pytest.raises(TypeError, match='weight optimizer is Adam'):
        DartsSecondOrderStrategy(use_optimizer_state=True).step(
            ridge.problem(weight_optimizer=adam))
    nesterov = torch.optim.SGD(
        ridge.weights, lr=0.1, momentum=0.9, nesterov=True)
    with pytest.raises(ValueError, match='no nesterov'):
        DartsSecondOrderStrategy(use_optimizer_state=True).step(
            ridge.problem(weight_optimizer=nesterov))
    two_lrs = torch.optim.SGD([
        dict(params=[ridge.theta_a], lr=0.1),
        dict(params=[ridge.theta_b], lr=0.2)
    ])
    with pytest.raises(
            ValueError,
            match=r'different learning rates '
            r'\[0.1, 0.2\]; set eta'):
        IASStrategy(variant='official').step(
            ridge.problem(weight_optimizer=two_lrs))
    with pytest.raises(ValueError, match="only used by variant='official'"):
        IASStrategy(eta=0.1)
    with pytest.raises(ValueError, match='variant must be one of'):
        IASStrategy(variant='code')
    with pytest.raises(ValueError, match='r must be > 0'):
        DartsSecondOrderStrategy(r=0)
    with pytest.raises(ValueError, match='needs use_optimizer_state=True'):
        DartsSecondOrderStrategy(unroll_weight_decay=3e-4)


# --------------------------------------------------------------- regulariser
# 2 edges x 3 ops; softmax(α_1) = (1, 2, 3)/6, softmax(α_2) = (1, 1, 2)/4
ALPHA = [[0., math.log(2), math.log(3)], [0., 0., math.log(2)]]
LAT = [[1., 2., 4.], [3., 0., 6.]]
# Reg = (1 + 4 + 12)/6 + (3 + 0 + 12)/4 = 79/12
# ∂Reg/∂α_ej = p_ej (LAT_ej - E_p[LAT_e]), E = 17/6 and 15/4
GRAD = [[-11 / 36, -5 / 18, 7 / 12], [-3 / 16, -15 / 16, 9 / 8]]


def test_regulariser_value_and_gradient_by_hand():
    alpha = nn.Parameter(torch.tensor(ALPHA, dtype=DT))
    reg = operation_sensitive_reg(alpha, torch.tensor(LAT, dtype=DT))
    assert reg.item() == pytest.approx(79 / 12, rel=1e-15)
    grad, = torch.autograd.grad(reg, alpha)
    torch.testing.assert_close(
        grad, torch.tensor(GRAD, dtype=DT), rtol=1e-14, atol=1e-15)
    # central finite differences agree with the hand-computed gradient
    h, fd = 1e-6, torch.zeros(2, 3, dtype=DT)
    for e in range(2):
        for o in range(3):
            step = torch.zeros(2, 3, dtype=DT)
            step[e, o] = h
            plus = operation_sensitive_reg(alpha.detach() + step,
                                           torch.tensor(LAT, dtype=DT))
            minus = operation_sensitive_reg(alpha.detach() - step,
                                            torch.tensor(LAT, dtype=DT))
            fd[e, o] = (plus - minus) / (2 * h)
    torch.testing.assert_close(
        fd, torch.tensor(GRAD, dtype=DT), rtol=1e-8, atol=1e-10)


def test_regulariser_containers_and_shared_table():
    alpha = torch.tensor(ALPHA, dtype=DT)
    lat = torch.tensor(LAT, dtype=DT)
    per_edge = operation_sensitive_reg(alpha, lat)
    as_list = operation_sensitive_reg(list(alpha), list(lat))
    as_dict = operation_sensitive_reg(
        nn.ParameterDict(
            dict(
                cell_e1=nn.Parameter(alpha[0]),
                cell_e0=nn.Parameter(alpha[1]))),
        dict(cell_e0=lat[1], cell_e1=lat[0]))
    assert as_list.item() == pytest.approx(79 / 12, rel=1e-15)
    assert as_dict.item() == pytest.approx(79 / 12, rel=1e-15)
    assert per_edge.item() == pytest.approx(79 / 12, rel=1e-15)
    # one (num_ops,) table shared by every edge, also for ragged edges
    shared = operation_sensitive_reg(alpha, lat[0])
    assert shared.item() == pytest.approx(17 / 6 + (1 + 2 + 8) / 4, rel=1e-15)
    ragged = operation_sensitive_reg(
        [alpha[0], alpha[1, 1:]],
        [lat[0], torch.tensor([5., 7.], dtype=DT)])
    assert ragged.item() == pytest.approx(17 / 6 + (5 + 14) / 3, rel=1e-15)
    with pytest.raises(
            ValueError,
            match=r'cost table of alphas\[1\] has '
            r'shape \(3,\), which does not broadcast'):
        operation_sensitive_reg([alpha[0], alpha[1, 1:]], lat[0])
    with pytest.raises(ValueError, match='2 α tensors but 1 cost tables'):
        operation_sensitive_reg(list(alpha), [lat[0]])
    with pytest.raises(ValueError, match='different keys'):
        operation_sensitive_reg(dict(a=alpha[0]), dict(b=lat[0]))
