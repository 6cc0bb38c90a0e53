"""Exact implicit hypergradient: IFT with an iterative inverse-Hessian solve
(Lorraine et al., AISTATS 2020; iMAML, NeurIPS 2019).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmfusenas.registry import TASK_UTILS
from mmfusenas.utils.distributed import check_finite
from .base import BaseBilevelStrategy, BilevelProblem
from .functional import fill_zeros, flat_dot, flat_norm, scalar_loss


def _axpy(a: float, xs: Sequence[Tensor],
          ys: Sequence[Tensor]) -> List[Tensor]:
    """``a·x + y`` over lists of tensors."""
    return [a * x + y for x, y in zip(xs, ys)]


@TASK_UTILS.register_module()
class ImplicitStrategy(BaseBilevelStrategy):
    """The implicit-function-theorem hypergradient, solved iteratively.

    ``dF/dα = ∇_α F - ∇²_{αθ} f · v`` with ``(∇²_{θθ} f + δI) v = ∇_θ F``, at
    the current θ (run the inner weight steps first), using exact
    Hessian–vector products:

    * ``solver='cg'``: conjugate gradient from v = 0, stopping after
      ``max_iters`` or at relative residual ``tol``; on non-positive
      curvature it keeps the current iterate (``ift_negative_curvature=1``;
      raise ``damping``);
    * ``solver='neumann'``: ``v = η Σ_{j≤K} (I - η(H + δI))^j ∇_θ F``, K =
      ``max_iters``, η = ``neumann_lr`` (None: the single weight learning
      rate); stops early when a term falls below ``tol``.

    Args:
        solver (str): ``'cg'`` or ``'neumann'``. Defaults to ``'cg'``.
        max_iters (int): CG iterations / Neumann terms. Defaults to 20.
        tol (float): relative stopping tolerance. Defaults to 1e-6.
        damping (float): δ ≥ 0. Defaults to 0.
        neumann_lr (float, optional): η of the Neumann series.

    Logs ``upper_loss``, ``lower_loss``, ``ift_iters``, ``ift_residual``,
    ``ift_negative_curvature`` and ``hypergrad_norm``.
    """

    SOLVERS = ('cg', 'neumann')

    def __init__(self,
                 solver: str = 'cg',
                 max_iters: int = 20,
                 tol: float = 1e-6,
                 damping: float = 0.0,
                 neumann_lr: Optional[float] = None) -> None:
        if solver not in self.SOLVERS:
            raise ValueError(f'{self.name}: solver must be one of '
                             f'{self.SOLVERS}, got {solver!r}')
        if int(max_iters) != max_iters or max_iters < 1:
            raise ValueError(
                f'{self.name}: max_iters must be an int >= 1, got {max_iters}')
        if tol < 0:
            raise ValueError(f'{self.name}: tol must be >= 0, got {tol}')
        if damping < 0:
            raise ValueError(
                f'{self.name}: damping must be >= 0, got {damping}')
        if neumann_lr is not None and (solver != 'neumann' or neumann_lr <= 0):
            raise ValueError(f'{self.name}: neumann_lr must be > 0 and is '
                             "only used by solver='neumann'")
        self.solver = solver
        self.max_iters = int(max_iters)
        self.tol = float(tol)
        self.damping = float(damping)
        self.neumann_lr = neumann_lr

    def _neumann_lr(self, problem: BilevelProblem) -> float:
        if self.neumann_lr is not None:
            return float(self.neumann_lr)
        return problem.weight_lr(self.name, 'neumann_lr')

    def _cg(self, hvp, b: List[Tensor]) -> Tuple[List[Tensor], int, bool]:
        """Solve ``A v = b`` with A given by ``hvp``; v0 = 0."""
        x = [torch.zeros_like(t) for t in b]
        r = [t.clone() for t in b]
        p = [t.clone() for t in b]
        rr = flat_dot(r, r)
        b_norm = rr.sqrt()
        iters, negative = 0, False
        while iters < self.max_iters and rr.sqrt() > self.tol * b_norm:
            ap = hvp(p)
            pap = flat_dot(p, ap)
            iters += 1
            if pap <= 0:
                negative = True
                if iters == 1:  # no progress at all: fall back to v = b
                    x = [t.clone() for t in b]
                break
            step = rr / pap
            x = _axpy(step, p, x)
            r = _axpy(-step, ap, r)
            rr_new = flat_dot(r, r)
            p = _axpy(rr_new / rr, p, r)
            rr = rr_new
        return x, iters, negative

    def _neumann(self, hvp, b: List[Tensor],
                 eta: float) -> Tuple[List[Tensor], int, bool]:
        """``v = η Σ_j (I − ηA)^j b``."""
        term = [t.clone() for t in b]
        total = [t.clone() for t in b]
        b_norm = flat_norm(b)
        iters = 0
        for _ in range(self.max_iters):
            a_term = hvp(term)
            term = _axpy(-eta, a_term, term)
            total = [s + t for s, t in zip(total, term)]
            iters += 1
            if flat_norm(term) <= self.tol * b_norm:
                break
        return [eta * t for t in total], iters, False

    def _hypergradient(
            self,
            problem: BilevelProblem) -> Tuple[List[Tensor], Dict[str, float]]:
        arch, weights = problem.arch_params, problem.weight_params
        n_arch = len(arch)
        upper, upper_grads = self._loss_and_grads(
            problem.val_loss, problem.val_batch, arch + weights,
            'upper loss on the validation batch')
        # CG on a NaN right-hand side returns v = 0, a finite hypergradient
        # the step guard would not see: the loss is checked here
        check_finite(upper, f'{self.name}: upper loss on the validation '
                     'batch')
        g_alpha_upper = fill_zeros(upper_grads[:n_arch], arch)
        g_theta_upper = fill_zeros(upper_grads[n_arch:], weights)

        # ∇_θ f with its graph: Hessian–vector products by double backward
        lower = scalar_loss(problem.train_loss, problem.train_batch,
                            f'{self.name}: lower loss on the training batch')
        g_theta_lower = torch.autograd.grad(
            lower, weights, create_graph=True, allow_unused=True)
        self._require_weight_dependence(g_theta_lower, 'lower loss')
        live = [i for i, g in enumerate(g_theta_lower)
                if g is not None and g.requires_grad]
        damping = self.damping

        def hvp(vec: List[Tensor]) -> List[Tensor]:
            out = [damping * v for v in vec]
            if live:
                prods = torch.autograd.grad([g_theta_lower[i] for i in live],
                                            [weights[i] for i in live],
                                            [vec[i] for i in live],
                                            retain_graph=True,
                                            allow_unused=True)
                for i, h in zip(live, prods):
                    if h is not None:
                        out[i] = out[i] + h.detach()
            return out

        b_norm = flat_norm(g_theta_upper)
        if b_norm == 0:
            v, iters, negative = [torch.zeros_like(t) for t in
                                  g_theta_upper], 0, False
            residual = 0.0
        else:
            if self.solver == 'cg':
                v, iters, negative = self._cg(hvp, g_theta_upper)
            else:
                v, iters, negative = self._neumann(
                    hvp, g_theta_upper, self._neumann_lr(problem))
            res = _axpy(-1.0, g_theta_upper, hvp(v))
            residual = (flat_norm(res) / b_norm).item()

        # ∇²_{αθ} f · v = ∇_α ⟨∇_θ f, v⟩
        mixed_terms = [(g, t) for g, t in zip(g_theta_lower, v)
                       if g is not None and g.requires_grad]
        if mixed_terms:
            inner = flat_dot([g for g, _ in mixed_terms],
                             [t.detach() for _, t in mixed_terms])
            mixed_raw = list(
                torch.autograd.grad(inner, arch, allow_unused=True))
        else:
            mixed_raw = [None] * n_arch
        self._require_arch_dependence(upper_grads[:n_arch], mixed_raw)
        mixed = fill_zeros(mixed_raw, arch)
        grads = [ga - m for ga, m in zip(g_alpha_upper, mixed)]
        return grads, dict(
            upper_loss=upper,
            lower_loss=lower.detach(),
            ift_iters=float(iters),
            ift_residual=residual,
            ift_negative_curvature=float(negative))
