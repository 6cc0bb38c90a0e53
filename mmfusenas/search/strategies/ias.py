"""TIM's implicit architecture search (IAS): Gauss–Newton hypergradient.

Liu et al., "A Task-guided, Implicitly-searched and Meta-initialized Deep
Model for Image Fusion", Sec. 3.2, Eq. 3–4, Alg. 1 (lines 2–5).
"""
from typing import Dict, List, Optional, Tuple

from torch import Tensor

from mmfusenas.registry import TASK_UTILS
from .base import BaseBilevelStrategy, BilevelProblem
from .functional import fill_zeros, flat_dot


@TASK_UTILS.register_module()
class IASStrategy(BaseBilevelStrategy):
    """Implicit (Gauss–Newton) hypergradient at the current weights.

    IAS lets the caller run T weight steps on f first (Alg. 1, line 3), so
    that θ ≈ θ*(α), and then uses the implicit-function gradient
    :math:`G = \\nabla_\\alpha F - \\nabla^2_{\\alpha\\theta} f
    [\\nabla^2_{\\theta\\theta} f]^{-1} \\nabla_\\theta F` (Eq. 3) with both
    second derivatives replaced by outer products of first derivatives
    (Gauss–Newton). Everything is evaluated at the current θ; no virtual
    weights are made. With :math:`c = \\langle \\nabla_\\theta F,
    \\nabla_\\theta f \\rangle / (\\langle \\nabla_\\theta f,
    \\nabla_\\theta f \\rangle + \\text{eps})` (a detached scalar, F on the
    validation batch, f on the training batch):

    * ``variant='paper'`` (default), TIM Eq. 4:

      .. math:: G = \\nabla_\\alpha F - c\\, \\nabla_\\alpha f

    * ``variant='official'``, TIM's released ``IAS/architect_new.py``:

      .. math:: G = \\nabla_\\alpha F + \\eta\\, c\\, \\nabla_\\alpha f

      The code builds the surrogate ``L_GN = -c·f``, takes
      ``h = ∇_α L_GN = -c ∇_α f`` and sets ``α.grad = ∇_α F - η·h``: it has
      the opposite sign of Eq. 4 on the second term and scales it by η, the
      ``eta`` argument of the DARTS calling convention, i.e. the weight
      learning rate.

    Args:
        variant (str): ``'paper'`` or ``'official'``. Defaults to
            ``'paper'``.
        eta (float, optional): η of the official variant. ``None``
            (default) reads the weight optimizer's learning rate, which must
            then be the same for all weight parameters. Must stay ``None``
            for the paper variant.
        eps (float): Added to :math:`\\langle \\nabla_\\theta f,
            \\nabla_\\theta f \\rangle`; 0 (default) is Eq. 4 exactly.

    Logs ``upper_loss``, ``lower_loss``, ``gn_coef`` (c) and
    ``hypergrad_norm``.
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
        lrs = set(problem.weight_lrs(self.name))
        if len(lrs) != 1:
            raise ValueError(
                f'{self.name}: the weight parameters have different learning '
                f'rates {sorted(lrs)}; set eta explicitly')
        return lrs.pop()

    def _hypergradient(
            self,
            problem: BilevelProblem) -> Tuple[List[Tensor], Dict[str, float]]:
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
        return grads, dict(
            upper_loss=upper.item(), lower_loss=lower.item(), gn_coef=c.item())
