"""DARTS hypergradients, first order and one-step unrolled second order
(Liu et al., ICLR 2019, Eq. 6-8).
"""
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from mmfusenas.registry import TASK_UTILS
from .base import BaseBilevelStrategy, BilevelProblem
from .functional import fill_zeros, finite_difference_hvp, replaced_values


@TASK_UTILS.register_module()
class DartsFirstOrderStrategy(BaseBilevelStrategy):
    """First-order DARTS: ``G = ∇_α F(θ, α)`` on the validation batch.

    Raises ``ValueError`` if F does not depend on α. Logs ``upper_loss``.
    """

    def _hypergradient(
            self,
            problem: BilevelProblem) -> Tuple[List[Tensor], Dict[str, Tensor]]:
        upper, grads = self._loss_and_grads(
            problem.val_loss, problem.val_batch, problem.arch_params,
            'upper loss on the validation batch')
        self._require_arch_dependence(grads)
        return fill_zeros(grads, problem.arch_params), dict(upper_loss=upper)


@TASK_UTILS.register_module()
class DartsSecondOrderStrategy(BaseBilevelStrategy):
    """Second-order DARTS: one unrolled weight step, FD Hessian–vector product.

    With the virtual weights ``θ' = θ - ξ d``, ``d = ∇_θ f [+ μ b + λ_wd θ]``:
    ``G = ∇_α F(θ', α) - ξ ∇²_{αθ} f(θ, α) v``, ``v = ∇_θ' F(θ', α)``, the
    mixed product by central finite differences at ``θ ± εv``, ``ε = r /
    ‖v‖``. θ' is really copied into the weights for the upper forward and θ
    restored bit-exactly; with per-group learning rates ξ is per parameter.

    Args:
        xi (float, optional): virtual step size ξ ≥ 0; None reads each
            weight's learning rate; 0 gives first order.
        r (float): FD step length ``ε‖v‖``. Defaults to 0.01.
        use_optimizer_state (bool): d includes the plain-momentum SGD weight
            optimizer's ``weight_decay·θ + momentum·buffer``. Defaults to
            False (d = ∇_θ f).
        unroll_weight_decay (float, optional): with ``use_optimizer_state``,
            λ_wd of the virtual step instead of the optimizer's (HBL's
            architect decays the unrolled step by 3e-4, its SGD not).
            Defaults to None (the optimizer's).

    Logs ``lower_loss``, ``upper_loss`` and ``hypergrad_norm``.
    """

    def __init__(self,
                 xi: Optional[float] = None,
                 r: float = 0.01,
                 use_optimizer_state: bool = False,
                 unroll_weight_decay: Optional[float] = None) -> None:
        if xi is not None and xi < 0:
            raise ValueError(f'{self.name}: xi must be >= 0, got {xi}')
        if unroll_weight_decay is not None and not (
                use_optimizer_state and unroll_weight_decay >= 0):
            raise ValueError(f'{self.name}: unroll_weight_decay must be >= 0 '
                             'and needs use_optimizer_state=True, got '
                             f'{unroll_weight_decay}')
        if r <= 0:
            raise ValueError(f'{self.name}: r must be > 0, got {r}')
        self.xi = xi
        self.r = r
        self.use_optimizer_state = use_optimizer_state
        self.unroll_weight_decay = unroll_weight_decay

    def _step_sizes(self, problem: BilevelProblem) -> List[float]:
        if self.xi is not None:
            return [self.xi] * len(problem.weight_params)
        return problem.weight_lrs(self.name)

    def _optimizer_terms(self, problem: BilevelProblem) -> List[Tensor]:
        """``weight_decay·θ + momentum·buffer`` of the SGD weight optimizer."""
        groups = problem.weight_param_groups(self.name)
        optimizer = getattr(problem.weight_optimizer, 'optimizer',
                            problem.weight_optimizer)
        if not isinstance(optimizer, torch.optim.SGD):
            raise TypeError(
                f'{self.name}: use_optimizer_state=True reproduces an SGD '
                'step, but the weight optimizer is '
                f'{type(optimizer).__name__}')
        terms = []
        for p, group in zip(problem.weight_params, groups):
            if group.get('nesterov') or group.get('dampening', 0) != 0 or \
                    group.get('maximize'):
                raise ValueError(
                    f'{self.name}: use_optimizer_state=True supports SGD '
                    'with plain momentum only (no nesterov, dampening or '
                    'maximize)')
            decay = group['weight_decay'] if self.unroll_weight_decay is \
                None else self.unroll_weight_decay
            term = decay * p.detach()
            buf = optimizer.state.get(p, {}).get('momentum_buffer')
            if group['momentum'] != 0 and buf is not None:
                term = term + group['momentum'] * buf
            terms.append(term)
        return terms

    def _hypergradient(
            self,
            problem: BilevelProblem) -> Tuple[List[Tensor], Dict[str, Tensor]]:
        arch, weights = problem.arch_params, problem.weight_params
        n_arch = len(arch)
        xis = self._step_sizes(problem)

        # 1. direction of the weight step at θ (lower loss, train batch)
        lower, lower_grads = self._loss_and_grads(
            problem.train_loss, problem.train_batch, arch + weights,
            'lower loss on the training batch')
        self._require_weight_dependence(lower_grads[n_arch:], 'lower loss')
        direction = fill_zeros(lower_grads[n_arch:], weights)
        if self.use_optimizer_state:
            direction = [
                d + t
                for d, t in zip(direction, self._optimizer_terms(problem))
            ]
        virtual = [
            p.detach() - xi * d for p, d, xi in zip(weights, direction, xis)
        ]

        # 2. upper loss at the virtual weights θ' (validation batch)
        with replaced_values(weights, virtual):
            upper, upper_grads = self._loss_and_grads(
                problem.val_loss, problem.val_batch, arch + weights,
                'upper loss at the virtual weights on the validation batch')
        self._require_arch_dependence(upper_grads[:n_arch],
                                      lower_grads[:n_arch])
        v = fill_zeros(upper_grads[n_arch:], weights)

        # 3. ξ·∇²_{αθ} f(θ, α)·v by central differences around θ
        xi_v = [xi * g for xi, g in zip(xis, v)]
        hvp = finite_difference_hvp(
            arch,
            weights,
            problem.train_loss,
            problem.train_batch,
            xi_v,
            r=self.r,
            who=self.name)
        grads = [
            g - h for g, h in zip(fill_zeros(upper_grads[:n_arch], arch), hvp)
        ]
        return grads, dict(lower_loss=lower, upper_loss=upper)
