"""TIM's implicit architecture search (IAS): Gauss–Newton hypergradient
(Sec. 3.2, Eq. 3-4, Alg. 1).
"""
from typing import Dict, List, Optional, Tuple

from torch import Tensor

from mmfusenas.registry import TASK_UTILS
from .base import BaseBilevelStrategy, BilevelProblem
from .functional import fill_zeros, flat_dot


@TASK_UTILS.register_module()
class IASStrategy(BaseBilevelStrategy):
    """Implicit (Gauss–Newton) hypergradient at the current weights.

    The caller runs T weight steps first so that θ ≈ θ*(α). With the detached
    ``c = ⟨∇_θ F, ∇_θ f⟩ / (⟨∇_θ f, ∇_θ f⟩ + eps)`` (F on the validation,
    f on the training batch):

    * ``variant='paper'`` (TIM Eq. 4): ``G = ∇_α F - c ∇_α f``;
    * ``variant='official'`` (TIM's ``IAS/architect_new.py``):
      ``G = ∇_α F + η c ∇_α f``, η the weight learning rate.

    Args:
        variant (str): ``'paper'`` or ``'official'``. Defaults to 'paper'.
        eta (float, optional): η of the official variant; None reads the
            (single) weight learning rate.
        eps (float): added to ⟨∇_θ f, ∇_θ f⟩. Defaults to 0.

    Logs ``upper_loss``, ``lower_loss``, ``gn_coef`` (c), ``hypergrad_norm``.
    """

    VARIANTS = ('paper', 'official')

    def __init__(self,
                 variant: str = 'paper',
                 eta: Optional[float] = None,
                 eps: float = 0.0) -> None:
        if variant not in self.VARIANTS:
            raise ValueError(f'{self.name}: variant must be one of '
                             f'{self.VARIANTS}, got {variant!r}')
        if eta is not None and variant != 'official':
            raise ValueError(f'{self.name}: eta is only used by '
                             "variant='official'")
        if eps < 0:
            raise ValueError(f'{self.name}: eps must be >= 0, got {eps}')
        self.variant = variant
        self.eta = eta
        self.eps = eps

    def _eta(self, problem: BilevelProblem) -> float:
        if self.eta is not None:
            return self.eta
        return problem.weight_lr(self.name, 'eta')

    def _hypergradient(
            self,
            problem: BilevelProblem) -> Tuple[List[Tensor], Dict[str, Tensor]]:
        arch, weights = problem.arch_params, problem.weight_params
        n_arch = len(arch)
        upper, upper_grads = self._loss_and_grads(
            problem.val_loss, problem.val_batch, arch + weights,
            'upper loss on the validation batch')
        lower, lower_grads = self._loss_and_grads(
            problem.train_loss, problem.train_batch, arch + weights,
            'lower loss on the training batch')
        self._require_arch_dependence(upper_grads[:n_arch],
                                      lower_grads[:n_arch])
        self._require_weight_dependence(lower_grads[n_arch:], 'lower loss')

        g_theta_upper = fill_zeros(upper_grads[n_arch:], weights)
        g_theta_lower = fill_zeros(lower_grads[n_arch:], weights)
        denom = flat_dot(g_theta_lower, g_theta_lower) + self.eps
        if denom == 0:
            raise FloatingPointError(
                f'{self.name}: ⟨∇_θ f, ∇_θ f⟩ = 0 (the lower loss is exactly '
                'stationary), so the Gauss–Newton coefficient is 0/0; set '
                'eps > 0')
        c = flat_dot(g_theta_upper, g_theta_lower) / denom
        coef = -c if self.variant == 'paper' else self._eta(problem) * c

        grads = [
            ga + coef * gf for ga, gf in zip(
                fill_zeros(upper_grads[:n_arch], arch),
                fill_zeros(lower_grads[:n_arch], arch))
        ]
        return grads, dict(upper_loss=upper, lower_loss=lower,
                           gn_coef=c.detach())
