"""RUAS's cooperative architecture search of a scene and a task module.

Liu et al., TPAMI 2022, Sec. 4.2, Alg. 1 and Eq. 6–8. The scene module
(SM, α_s / ω_s) and the task module (TM, α_t / ω_t) are searched by
alternating two bilevel problems; the scene step adds the gradient of the
task validation loss through the scene output::

    G_s = hypergradient of (L_val^s, L_tr^s) w.r.t. α_s        (Alg. 1, step 5)
          + β · ∇_{α_s} L_val^t(α_t(α_s); ω_t)
    G_t = hypergradient of (L_val^t, L_tr^t) w.r.t. α_t        (Alg. 1, step 10)

Both hypergradients are computed by existing strategies (one-step
finite-difference DARTS by default, as the paper and the official code);
this module only composes them. Table 4's baselines are modes of the same
strategy: ``'independent'`` (β = 0: no coupling) and ``'global'`` (one joint
bilevel problem over all α and ω with the loss ``L^s + L^t``).

Paper vs code: the CVPR code couples the two modules only by adding the
denoise loss to the *unrolled* upper loss of the scene architect (so the
coupling term goes through the unrolled ω_s' and the finite-difference
HVP); here the coupling is the paper's first-order ``β ∇_{α_s} L_val^t`` at
the current weights.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from mmfusenas.registry import TASK_UTILS
from .base import BaseBilevelStrategy, BilevelProblem, HyperGradient
from .functional import LossFn, flat_norm

#: modes of :class:`CooperativeStrategy` (paper Table 4)
COOPERATIVE_MODES = ('cooperative', 'independent', 'global')


class CooperativeProblem:
    """The two coupled bilevel problems of a cooperative search step.

    Args:
        scene_arch (Sequence[Tensor]): α_s.
        scene_weights (Sequence[Tensor]): ω_s.
        task_arch (Sequence[Tensor]): α_t.
        task_weights (Sequence[Tensor]): ω_t.
        train_batch (Any): input of the training losses.
        val_batch (Any): input of the validation losses.
        scene_loss (Callable): ``L^s(batch) -> Tensor`` (used as L_tr^s and
            L_val^s).
        task_loss (Callable): ``L^t(batch) -> Tensor`` (L_tr^t and L_val^t);
            it depends on α_s and ω_s through the scene output.
        weight_optimizer (optional): the weight optimizer (read only).

    The four parameter lists must be pairwise disjoint (checked by the
    sub-problems and here).
    """

    def __init__(self,
                 scene_arch: Sequence[Tensor],
                 scene_weights: Sequence[Tensor],
                 task_arch: Sequence[Tensor],
                 task_weights: Sequence[Tensor],
                 *,
                 train_batch: Any,
                 val_batch: Any,
                 scene_loss: LossFn,
                 task_loss: LossFn,
                 weight_optimizer: Optional[Any] = None) -> None:
        self.scene = BilevelProblem(
            scene_arch,
            scene_weights,
            train_batch=train_batch,
            val_batch=val_batch,
            loss_fn=scene_loss,
            weight_optimizer=weight_optimizer)
        self.task = BilevelProblem(
            task_arch,
            task_weights,
            train_batch=train_batch,
            val_batch=val_batch,
            loss_fn=task_loss,
            weight_optimizer=weight_optimizer)
        ids = [{id(p) for p in ps} for ps in (
            self.scene.arch_params, self.scene.weight_params,
            self.task.arch_params, self.task.weight_params)]
        if sum(map(len, ids)) != len(set().union(*ids)):
            raise ValueError('CooperativeProblem: the scene and task '
                             'parameter lists (α_s, ω_s, α_t, ω_t) must be '
                             'pairwise disjoint')
        self.scene_loss = scene_loss
        self.task_loss = task_loss
        self.train_batch = train_batch
        self.val_batch = val_batch
        self.weight_optimizer = weight_optimizer

    @property
    def arch_params(self) -> List[Tensor]:
        """``α_s + α_t`` (the order of every full gradient list)."""
        return self.scene.arch_params + self.task.arch_params

    @property
    def weight_params(self) -> List[Tensor]:
        """``ω_s + ω_t``."""
        return self.scene.weight_params + self.task.weight_params

    def coupling(self) -> BilevelProblem:
        """α_s against L_val^t at the current ω_t (the β term)."""
        return BilevelProblem(
            self.scene.arch_params,
            self.task.weight_params,
            train_batch=self.train_batch,
            val_batch=self.val_batch,
            loss_fn=self.task_loss)

    def joint(self) -> BilevelProblem:
        """One problem over all α and ω with the loss ``L^s + L^t``."""

        def loss(batch: Any) -> Tensor:
            return self.scene_loss(batch) + self.task_loss(batch)

        return BilevelProblem(
            self.arch_params,
            self.weight_params,
            train_batch=self.train_batch,
            val_batch=self.val_batch,
            loss_fn=loss,
            weight_optimizer=self.weight_optimizer)


def _build(cfg: Union[dict, BaseBilevelStrategy],
           role: str) -> BaseBilevelStrategy:
    strategy = TASK_UTILS.build(cfg) if isinstance(cfg, dict) else cfg
    if not isinstance(strategy, BaseBilevelStrategy):
        raise TypeError(f'CooperativeStrategy: {role} must be a '
                        'BaseBilevelStrategy (or its config), got '
                        f'{type(strategy).__name__}')
    return strategy


@TASK_UTILS.register_module()
class CooperativeStrategy(BaseBilevelStrategy):
    """Compose bilevel strategies into RUAS's cooperative search.

    Works on a :class:`CooperativeProblem`. The search algorithm alternates
    (Alg. 1): :meth:`scene_hypergradient` → step α_s → scene weight step →
    :meth:`task_hypergradient` (at the updated α_s) → step α_t → task weight
    step. :meth:`hypergradient` / :meth:`step` return / write both at once
    (``α_s + α_t`` order), which is what ``'global'`` uses.

    Args:
        mode (str): ``'cooperative'`` (paper), ``'independent'`` (the
            Table 4 baseline without coupling: β is ignored, the coupling
            term is not computed) or ``'global'`` (Table 4's "naive joint
            search": ``scene_strategy`` on one problem over all α and ω with
            the loss ``L^s + L^t``). Defaults to 'cooperative'.
        beta (float): β ≥ 0 of Eq. 7. Defaults to 1.0 (the official code's
            implicit weight of the denoise loss in the scene's upper loss).
        scene_strategy (dict | BaseBilevelStrategy): hypergradient of the
            scene problem (and of the joint problem in ``'global'``).
            Defaults to ``DartsSecondOrderStrategy`` (one-step finite
            difference, paper and official code).
        task_strategy (dict | BaseBilevelStrategy): hypergradient of the
            task problem. Defaults to ``DartsSecondOrderStrategy``.
        coupling_strategy (dict | BaseBilevelStrategy): gradient of L_val^t
            w.r.t. α_s. Defaults to ``DartsFirstOrderStrategy`` (the plain
            gradient at the current weights, Alg. 1 step 5).

    Logs the component strategies' logs under ``scene/``, ``task/``,
    ``coupling/`` (``global/`` in ``'global'``), ``scene/hypergrad_norm``
    and ``task/hypergrad_norm`` (of G_s and G_t) and ``hypergrad_norm``
    (of everything returned at once).
    """

    def __init__(
        self,
        mode: str = 'cooperative',
        beta: float = 1.0,
        scene_strategy: Union[dict, BaseBilevelStrategy] = dict(
            type='DartsSecondOrderStrategy'),
        task_strategy: Union[dict, BaseBilevelStrategy] = dict(
            type='DartsSecondOrderStrategy'),
        coupling_strategy: Union[dict, BaseBilevelStrategy] = dict(
            type='DartsFirstOrderStrategy')
    ) -> None:
        if mode not in COOPERATIVE_MODES:
            raise ValueError(f'{self.name}: mode must be one of '
                             f'{COOPERATIVE_MODES}, got {mode!r}')
        if beta < 0:
            raise ValueError(f'{self.name}: beta must be >= 0, got {beta}')
        self.mode = mode
        self.beta = float(beta)
        self.scene_strategy = _build(scene_strategy, 'scene_strategy')
        self.task_strategy = _build(task_strategy, 'task_strategy')
        self.coupling_strategy = _build(coupling_strategy,
                                        'coupling_strategy')

    @property
    def coupled(self) -> bool:
        """Whether the β term is computed."""
        return self.mode == 'cooperative' and self.beta > 0

    @staticmethod
    def _check(problem: Any) -> None:
        if not isinstance(problem, CooperativeProblem):
            raise TypeError('CooperativeStrategy needs a CooperativeProblem '
                            f'(scene + task), got {type(problem).__name__}')

    def scene_hypergradient(self, problem: CooperativeProblem) -> HyperGradient:
        """``G_s`` (aligned with ``problem.scene.arch_params``)."""
        self._check(problem)
        if self.mode == 'global':
            raise ValueError(f"{self.name}: mode='global' has one joint "
                             'problem; use hypergradient()')
        scene = self.scene_strategy.hypergradient(problem.scene)
        log = {f'scene/{k}': v for k, v in scene.log_vars.items()}
        grads = scene.grads
        if self.coupled:
            coupling = self.coupling_strategy.hypergradient(problem.coupling())
            grads = [
                g + self.beta * c for g, c in zip(grads, coupling.grads)
            ]
            log.update(
                {f'coupling/{k}': v
                 for k, v in coupling.log_vars.items()})
        return self._finish(grads, log, 'scene')

    def task_hypergradient(self, problem: CooperativeProblem) -> HyperGradient:
        """``G_t`` (aligned with ``problem.task.arch_params``)."""
        self._check(problem)
        if self.mode == 'global':
            raise ValueError(f"{self.name}: mode='global' has one joint "
                             'problem; use hypergradient()')
        task = self.task_strategy.hypergradient(problem.task)
        return self._finish(task.grads,
                            {f'task/{k}': v
                             for k, v in task.log_vars.items()}, 'task')

    def _finish(self, grads: List[Tensor], log: Dict[str, float],
                role: str) -> HyperGradient:
        # the component strategies have checked that their parts are finite
        bad = [i for i, g in enumerate(grads) if not torch.isfinite(g).all()]
        if bad:
            raise FloatingPointError(
                f'{self.name}: the {role} hypergradient of arch_params{bad} '
                f'is not finite (log: {log})')
        log[f'{role}/hypergrad_norm'] = flat_norm(grads).item()
        return HyperGradient(grads, log)

    def _hypergradient(
            self, problem: Any) -> Tuple[List[Tensor], Dict[str, float]]:
        self._check(problem)
        if self.mode == 'global':
            joint = self.scene_strategy.hypergradient(problem.joint())
            return joint.grads, {
                f'global/{k}': v
                for k, v in joint.log_vars.items()
            }
        scene = self.scene_hypergradient(problem)
        task = self.task_hypergradient(problem)
        return scene.grads + task.grads, dict(scene.log_vars,
                                              **task.log_vars)
