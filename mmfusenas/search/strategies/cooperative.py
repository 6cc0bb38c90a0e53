"""RUAS's cooperative architecture search (TPAMI 2022, Alg. 1, Eq. 6-8).

Parts (scene and task module, or a chain) are searched by alternating
bilevel problems; a part's α step adds ``β · ∇_α`` of the later parts'
validation losses. Modes ``'independent'`` (β = 0) and ``'global'`` (one
joint problem) are Table 4's baselines.
"""
from typing import (Any, Callable, Dict, List, Mapping, NamedTuple,
                    Optional, Sequence, Tuple, Union)

from torch import Tensor

from mmfusenas.registry import TASK_UTILS
from .base import (BaseBilevelStrategy, BilevelProblem, HyperGradient,
                   build_strategy)
from .darts import DartsFirstOrderStrategy
from .functional import LossFn

#: modes of :class:`CooperativeStrategy` (paper Table 4)
COOPERATIVE_MODES = ('cooperative', 'independent', 'global')
#: which later parts' validation losses couple to a part's α
COUPLING_REACHES = ('downstream', 'next')


class CooperativePart(NamedTuple):
    """One searched part: ``name``, its α and ω, and ``loss_fn(batch)``
    (training and validation loss; may depend on earlier parts).
    """
    name: str
    arch_params: Sequence[Tensor]
    weight_params: Sequence[Tensor]
    loss_fn: LossFn


class CooperativeProblem:
    """The coupled bilevel problems of a cooperative search step.

    The two-part form (RUAS) takes the scene's and the task's α, ω and
    losses; :meth:`from_parts` builds any number of parts in data-flow order.
    All parameter lists must be pairwise disjoint.

    Args:
        scene_arch, scene_weights, task_arch, task_weights
            (Sequence[Tensor]): α_s, ω_s, α_t, ω_t.
        train_batch (Any): input of the training losses.
        val_batch (Any): input of the validation losses.
        scene_loss, task_loss (Callable): ``L(batch) -> Tensor`` of each.
        weight_optimizer (optional): the weight optimizer (read only).
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
        self._setup([
            CooperativePart('scene', scene_arch, scene_weights, scene_loss),
            CooperativePart('task', task_arch, task_weights, task_loss)
        ], train_batch, val_batch, weight_optimizer)

    @classmethod
    def from_parts(cls,
                   parts: Sequence[CooperativePart],
                   *,
                   train_batch: Any,
                   val_batch: Any,
                   weight_optimizer: Optional[Any] = None,
                   losses_fn: Optional[Callable[[Any], Sequence[Tensor]]] = None
                   ) -> 'CooperativeProblem':
        """A problem of two or more parts in data-flow order;
        ``losses_fn(batch)`` optionally gives every part's loss from one
        forward.
        """
        problem = cls.__new__(cls)
        problem._setup(parts, train_batch, val_batch, weight_optimizer,
                       losses_fn)
        return problem

    def _setup(self,
               parts: Sequence[CooperativePart],
               train_batch: Any,
               val_batch: Any,
               weight_optimizer: Optional[Any],
               losses_fn: Optional[Callable[[Any],
                                            Sequence[Tensor]]] = None) -> None:
        self.losses_fn = losses_fn
        parts = [CooperativePart(*p) for p in parts]
        if len(parts) < 2:
            raise ValueError('CooperativeProblem needs at least two parts, '
                             f'got {len(parts)}')
        names = [p.name for p in parts]
        if len(set(names)) != len(names):
            raise ValueError(f'CooperativeProblem: part names must be unique, '
                             f'got {names}')
        self.names = tuple(names)
        self.loss_fns = tuple(p.loss_fn for p in parts)
        self.parts = [
            BilevelProblem(
                p.arch_params,
                p.weight_params,
                train_batch=train_batch,
                val_batch=val_batch,
                loss_fn=p.loss_fn,
                weight_optimizer=weight_optimizer) for p in parts
        ]
        ids = [{id(p) for p in ps} for part in self.parts
               for ps in (part.arch_params, part.weight_params)]
        if sum(map(len, ids)) != len(set().union(*ids)):
            raise ValueError('CooperativeProblem: the parameter lists of the '
                             f'parts {names} (α and ω of each) must be '
                             'pairwise disjoint')
        self.train_batch = train_batch
        self.val_batch = val_batch
        self.weight_optimizer = weight_optimizer

    def index(self, part: Union[int, str]) -> int:
        """The position of ``part`` (an index or a name)."""
        return part_index(self.names, part)

    @property
    def arch_params(self) -> List[Tensor]:
        """Every part's α, in part order (the order of full gradients)."""
        return [p for part in self.parts for p in part.arch_params]

    def downstream(self, part: Union[int, str],
                   reach: str = 'downstream') -> List[int]:
        """The parts whose validation losses couple to ``part``'s α: every
        later one (``'downstream'``) or the next (``'next'``).
        """
        later = list(range(self.index(part) + 1, len(self.parts)))
        return later[:1] if reach == 'next' else later

    def coupling(self,
                 part: Union[int, str] = 0,
                 reach: str = 'downstream') -> Optional[BilevelProblem]:
        """``part``'s α against the later parts' summed validation losses at
        their ω (the β term); None for the last part.
        """
        later = self.downstream(part, reach)
        if not later:
            return None
        return BilevelProblem(
            self.parts[self.index(part)].arch_params,
            [p for j in later for p in self.parts[j].weight_params],
            train_batch=self.train_batch,
            val_batch=self.val_batch,
            loss_fn=self.weighted_loss({j: 1.0 for j in later}))

    def weighted_loss(self, weights: Mapping[int, float]) -> LossFn:
        """``batch -> Σ_j w_j L^j(batch)`` over the parts in ``weights``."""
        weights = {self.index(j): float(w) for j, w in weights.items()}
        if self.losses_fn is not None and len(weights) > 1:
            losses_fn = self.losses_fn

            def loss(batch: Any) -> Tensor:
                values = losses_fn(batch)
                return sum(w * values[j] for j, w in weights.items())
        else:
            fns = self.loss_fns

            def loss(batch: Any) -> Tensor:
                return sum(w * fns[j](batch) for j, w in weights.items())

        return loss

    def joint(self) -> BilevelProblem:
        """One problem over all α and ω with the summed loss of all parts."""
        return BilevelProblem(
            self.arch_params,
            [p for part in self.parts for p in part.weight_params],
            train_batch=self.train_batch,
            val_batch=self.val_batch,
            loss_fn=self.weighted_loss(
                {j: 1.0
                 for j in range(len(self.parts))}),
            weight_optimizer=self.weight_optimizer)


def part_index(names: Sequence[str], part: Union[int, str]) -> int:
    """The position of ``part`` (an index or a name) among ``names``."""
    if isinstance(part, str):
        if part not in names:
            raise KeyError(f'no part {part!r}; parts are {tuple(names)}')
        return list(names).index(part)
    if not -len(names) <= part < len(names):
        raise IndexError(f'part {part} out of range for {len(names)} parts')
    return part % len(names)


@TASK_UTILS.register_module()
class CooperativeStrategy(BaseBilevelStrategy):
    """Compose bilevel strategies into RUAS's cooperative search.

    Part i's hypergradient on a :class:`CooperativeProblem` is that of its own
    problem plus ``β · ∇_{α_i} Σ_{j ∈ D(i)} L_val^j``, D(i) every later part
    (``coupling_reach='downstream'``) or the next (``'next'``). The algorithm
    calls :meth:`part_hypergradient` part by part; :meth:`hypergradient`
    returns every part's at once (``'global'``: the joint problem's). Logs go
    under ``<part>/`` (``<part>/coupling/``, ``global/``).

    Args:
        mode (str): ``'cooperative'``, ``'independent'`` (no coupling) or
            ``'global'``. Defaults to 'cooperative'.
        beta (float): β ≥ 0. Defaults to 1.0.
        scene_strategy (dict | BaseBilevelStrategy): every part but the last,
            and the joint problem. Defaults to ``DartsSecondOrderStrategy``.
        task_strategy (dict | BaseBilevelStrategy): the last part. Defaults
            to ``DartsSecondOrderStrategy``.
        coupling_strategy (dict | BaseBilevelStrategy): the coupling term.
            Defaults to ``DartsFirstOrderStrategy``.
        part_strategies (dict, optional): ``{part name: strategy}`` overrides.
        coupling_reach (str): ``'downstream'`` or ``'next'``.
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
            type='DartsFirstOrderStrategy'),
        part_strategies: Optional[Mapping[str, Union[
            dict, BaseBilevelStrategy]]] = None,
        coupling_reach: str = 'downstream',
    ) -> None:
        if mode not in COOPERATIVE_MODES:
            raise ValueError(f'{self.name}: mode must be one of '
                             f'{COOPERATIVE_MODES}, got {mode!r}')
        if beta < 0:
            raise ValueError(f'{self.name}: beta must be >= 0, got {beta}')
        if coupling_reach not in COUPLING_REACHES:
            raise ValueError(f'{self.name}: coupling_reach must be one of '
                             f'{COUPLING_REACHES}, got {coupling_reach!r}')
        self.mode = mode
        self.beta = float(beta)
        self.coupling_reach = coupling_reach
        self.scene_strategy = build_strategy(scene_strategy, self.name)
        self.task_strategy = build_strategy(task_strategy, self.name)
        self.coupling_strategy = build_strategy(coupling_strategy, self.name)
        self.part_strategies = {
            str(name): build_strategy(cfg, self.name)
            for name, cfg in (part_strategies or {}).items()
        }

    @staticmethod
    def _check(problem: Any) -> None:
        if not isinstance(problem, CooperativeProblem):
            raise TypeError('CooperativeStrategy needs a CooperativeProblem '
                            f'(scene + task), got {type(problem).__name__}')

    def strategy_of(self, problem: CooperativeProblem,
                    part: Union[int, str]) -> BaseBilevelStrategy:
        """The strategy of ``part``'s own hypergradient."""
        i = problem.index(part)
        name = problem.names[i]
        unknown = sorted(set(self.part_strategies) - set(problem.names))
        if unknown:
            raise KeyError(f'{self.name}: part_strategies names {unknown}, '
                           f'which are not parts of {problem.names}')
        if name in self.part_strategies:
            return self.part_strategies[name]
        return (self.task_strategy
                if i == len(problem.parts) - 1 else self.scene_strategy)

    def part_hypergradient(self, problem: CooperativeProblem,
                           part: Union[int, str]) -> HyperGradient:
        """``G_i`` of one part (aligned with its ``arch_params``)."""
        self._check(problem)
        if self.mode == 'global':
            raise ValueError(f"{self.name}: mode='global' has one joint "
                             'problem; use hypergradient()')
        i = problem.index(part)
        name = problem.names[i]
        strategy = self.strategy_of(problem, i)
        coupled = self.mode == 'cooperative' and self.beta > 0
        coupling = problem.coupling(i, self.coupling_reach) \
            if coupled else None
        if coupling is not None and type(strategy) is type(
                self.coupling_strategy) is DartsFirstOrderStrategy:
            # both terms are plain gradients at the current weights: one
            # gradient of L_i + β Σ L_j (one forward pass with a losses_fn)
            weights = {i: 1.0}
            weights.update({
                j: self.beta
                for j in problem.downstream(i, self.coupling_reach)
            })
            fused = BilevelProblem(
                problem.parts[i].arch_params,
                list(problem.parts[i].weight_params) +
                list(coupling.weight_params),
                train_batch=problem.train_batch,
                val_batch=problem.val_batch,
                loss_fn=problem.weighted_loss(weights))
            both = strategy.hypergradient(fused)
            log = {
                f'{name}/coupled_{k}': v
                for k, v in both.log_vars.items()
            }
            return self._checked(both.grads, log, name)
        own = strategy.hypergradient(problem.parts[i])
        log = {f'{name}/{k}': v for k, v in own.log_vars.items()}
        grads = own.grads
        if coupling is not None:
            term = self.coupling_strategy.hypergradient(coupling)
            grads = [g + self.beta * c for g, c in zip(grads, term.grads)]
            log.update({
                f'{name}/coupling/{k}': v
                for k, v in term.log_vars.items()
            })
        return self._checked(grads, log, name)

    def _hypergradient(
            self, problem: Any) -> Tuple[List[Tensor], Dict[str, float]]:
        self._check(problem)
        if self.mode == 'global':
            joint = self.scene_strategy.hypergradient(problem.joint())
            return joint.grads, {
                f'global/{k}': v
                for k, v in joint.log_vars.items()
            }
        grads: List[Tensor] = []
        log: Dict[str, float] = {}
        for i in range(len(problem.parts)):
            part = self.part_hypergradient(problem, i)
            grads += part.grads
            log.update(part.log_vars)
        return grads, log
