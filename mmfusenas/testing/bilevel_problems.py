"""Bilevel problems with closed-form optima, for strategy tests and benchmarks.

Each problem gives the two losses as closures over its parameters θ and α,
the exact hypergradient ``dF(θ*(α), α)/dα`` and the bilevel optimum α*, so
that a strategy's hypergradient can be compared with the truth
(:func:`cosine`) and an alternating search with it can be checked to end
at α*: :class:`RidgeProblem1D` (scalar ridge regression with a
log-regularisation weight α) and :class:`QuadraticProblem` (a dense,
ill-conditioned quadratic lower problem). Everything is float64.
"""
import math
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmfusenas.search.strategies import BaseBilevelStrategy, BilevelProblem

DT = torch.float64


class _Problem:
    """Common part: parameters, closures, the alternating search."""

    theta: nn.Parameter
    alpha: nn.Parameter
    name = ''

    def f(self, batch=None) -> Tensor:
        raise NotImplementedError

    def F(self, batch=None) -> Tensor:
        raise NotImplementedError

    def theta_star(self, alpha: Tensor) -> Tensor:
        raise NotImplementedError

    def exact_hypergradient(self, alpha: Tensor) -> Tensor:
        """``dF(θ*(α), α)/dα``."""
        raise NotImplementedError

    def upper_value(self, alpha: Tensor) -> float:
        """``F(θ*(α), α)``."""
        raise NotImplementedError

    alpha_star: Tensor

    def reset(self, alpha0: Tensor, theta0: Optional[Tensor] = None) -> None:
        """Set α and θ (θ = 0 when not given)."""
        with torch.no_grad():
            self.alpha.copy_(alpha0)
            self.theta.copy_(
                torch.zeros_like(self.theta) if theta0 is None else theta0)

    def problem(self,
                weight_optimizer: Optional[torch.optim.Optimizer] = None
                ) -> BilevelProblem:
        """The :class:`BilevelProblem` at the current parameters."""
        return BilevelProblem([self.alpha], [self.theta],
                              train_batch=None,
                              val_batch=None,
                              train_loss=self.f,
                              val_loss=self.F,
                              weight_optimizer=weight_optimizer)

    def inner_steps(self, steps: int, lr: float) -> torch.optim.SGD:
        """``steps`` plain SGD steps on f; returns the optimizer."""
        opt = torch.optim.SGD([self.theta], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            self.f().backward()
            opt.step()
        return opt

    def alternate(self,
                  strategy: BaseBilevelStrategy,
                  alpha0: Tensor,
                  outer: int,
                  inner: int,
                  lr_w: float,
                  lr_a: float,
                  lr_decay: float = 1.0) -> Dict[str, List[float]]:
        """Alternating search (TIM Alg. 1 / DARTS): ``inner`` SGD steps on θ
        (warm-started), then one Adam step on α with the strategy's
        hypergradient; the α learning rate is multiplied by ``lr_decay``
        after every α step.

        Returns:
            dict: ``alpha`` (the trajectory, flattened per step, last =
            final α) and ``gap`` (``F(θ*(α)) − F(θ*(α*))`` per step).
        """
        self.reset(alpha0)
        w_opt = torch.optim.SGD([self.theta], lr=lr_w)
        a_opt = torch.optim.Adam([self.alpha], lr=lr_a)
        best = self.upper_value(self.alpha_star)
        alphas, gaps = [], []
        for _ in range(outer):
            for _ in range(inner):
                w_opt.zero_grad()
                self.f().backward()
                w_opt.step()
            a_opt.zero_grad()
            strategy.step(self.problem(w_opt))
            a_opt.step()
            for group in a_opt.param_groups:
                group['lr'] *= lr_decay
            a = self.alpha.detach().clone()
            if not torch.isfinite(a).all():
                break
            alphas.append(a.reshape(-1).tolist())
            gaps.append(self.upper_value(a) - best)
        return dict(alpha=alphas, gap=gaps)


class RidgeProblem1D(_Problem):
    """Scalar ridge regression, α = log of the ridge weight.

    Args:
        n_train (int): training pairs. Defaults to 20.
        n_val (int): validation pairs. Defaults to 40.
        val_slope (float): slope of the validation data relative to the
            training data's (< 1 gives an interior α*). Defaults to 0.6.
        seed (int): data seed. Defaults to 0.
    """

    name = 'ridge1d'

    def __init__(self,
                 n_train: int = 20,
                 n_val: int = 40,
                 val_slope: float = 0.6,
                 seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n_train, generator=gen, dtype=DT)
        self.y = 1.5 * self.x + 0.3 * torch.randn(
            n_train, generator=gen, dtype=DT)
        self.xv = torch.randn(n_val, generator=gen, dtype=DT)
        self.yv = 1.5 * val_slope * self.xv + 0.3 * torch.randn(
            n_val, generator=gen, dtype=DT)
        self.m_xx = (self.x**2).mean()
        self.m_xy = (self.x * self.y).mean()
        theta_v = (self.xv * self.yv).mean() / (self.xv**2).mean()
        ratio = self.m_xy / theta_v - self.m_xx
        if ratio <= 0:
            raise ValueError('RidgeProblem1D: no interior optimum; lower '
                             'val_slope')
        self.alpha_star = ratio.log().reshape(1)
        self.theta = nn.Parameter(torch.zeros(1, dtype=DT))
        self.alpha = nn.Parameter(torch.zeros(1, dtype=DT))

    def f(self, batch=None) -> Tensor:
        return ((self.x * self.theta - self.y)**2).mean() + \
            (self.alpha.exp() * self.theta**2).sum()

    def F(self, batch=None) -> Tensor:
        return ((self.xv * self.theta - self.yv)**2).mean()

    def theta_star(self, alpha: Tensor) -> Tensor:
        return self.m_xy / (self.m_xx + alpha.detach().exp())

    def exact_hypergradient(self, alpha: Tensor) -> Tensor:
        a = alpha.detach()
        t = self.theta_star(a)
        d_f_d_theta = 2 * (self.xv * (self.xv * t - self.yv)).mean()
        d_theta_d_alpha = -self.m_xy * a.exp() / (self.m_xx + a.exp())**2
        return d_f_d_theta * d_theta_d_alpha

    def upper_value(self, alpha: Tensor) -> float:
        t = self.theta_star(alpha)
        return ((self.xv * t - self.yv)**2).mean().item()


class QuadraticProblem(_Problem):
    """A quadratic lower level with a dense, ill-conditioned Hessian.

    Args:
        n (int): dimension of θ. Defaults to 6.
        m (int): dimension of α. Defaults to 2.
        cond (float): condition number of A. Defaults to 10.
        gamma (float): ridge weight of α in F. Defaults to 0.1.
        seed (int): seed. Defaults to 0.
    """

    name = 'quadratic'

    def __init__(self,
                 n: int = 6,
                 m: int = 2,
                 cond: float = 10.0,
                 gamma: float = 0.1,
                 seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=DT))
        eig = torch.logspace(0, math.log10(cond), n, dtype=DT)
        self.A = q @ torch.diag(eig) @ q.T
        self.B = torch.randn(n, m, generator=gen, dtype=DT)
        self.b = torch.randn(n, generator=gen, dtype=DT)
        self.t = torch.randn(n, generator=gen, dtype=DT)
        self.gamma = gamma
        self.M = torch.linalg.solve(self.A, self.B)
        c = torch.linalg.solve(self.A, self.b)
        self.alpha_star = torch.linalg.solve(
            self.M.T @ self.M + gamma * torch.eye(m, dtype=DT),
            self.M.T @ (self.t - c))
        self.theta = nn.Parameter(torch.zeros(n, dtype=DT))
        self.alpha = nn.Parameter(torch.zeros(m, dtype=DT))

    def f(self, batch=None) -> Tensor:
        return 0.5 * self.theta @ self.A @ self.theta - self.theta @ (
            self.B @ self.alpha + self.b)

    def F(self, batch=None) -> Tensor:
        return 0.5 * ((self.theta - self.t)**2).sum() + \
            0.5 * self.gamma * (self.alpha**2).sum()

    def theta_star(self, alpha: Tensor) -> Tensor:
        return torch.linalg.solve(self.A, self.B @ alpha.detach() + self.b)

    def exact_hypergradient(self, alpha: Tensor) -> Tensor:
        a = alpha.detach()
        return self.M.T @ (self.theta_star(a) - self.t) + self.gamma * a

    def upper_value(self, alpha: Tensor) -> float:
        a = alpha.detach()
        return (0.5 * ((self.theta_star(a) - self.t)**2).sum() +
                0.5 * self.gamma * (a**2).sum()).item()


PROBLEMS: Dict[str, Callable[[], _Problem]] = {
    RidgeProblem1D.name: RidgeProblem1D,
    QuadraticProblem.name: QuadraticProblem,
}


def cosine(a: Tensor, b: Tensor) -> float:
    """Cosine similarity of two flattened tensors (0 if one is zero)."""
    a, b = a.reshape(-1), b.reshape(-1)
    den = a.norm() * b.norm()
    return 0.0 if den == 0 else float(a @ b / den)
