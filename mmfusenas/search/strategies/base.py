"""The bilevel problem and the strategy base class.

Architecture search is ``min_α F(θ*(α), α)`` s.t. ``θ*(α) = argmin_θ
f(θ, α)``. A strategy turns a :class:`BilevelProblem` into an approximation
of dF/dα (:class:`HyperGradient`); it writes ``α.grad`` and nothing else.
"""
from abc import ABCMeta, abstractmethod
from typing import (Any, Dict, Iterable, List, Mapping, NamedTuple, Optional,
                    Sequence, Tuple, Union)

from torch import Tensor

from mmengine.registry import DefaultScope

from mmfusenas.registry import TASK_UTILS
from mmfusenas.utils.distributed import average_value
from .functional import LossFn, flat_norm, grads_wrt, scalar_loss


class HyperGradient(NamedTuple):
    """What :meth:`BaseBilevelStrategy.hypergradient` returns.

    Attributes:
        grads (list[Tensor]): detached, aligned with ``problem.arch_params``.
        log_vars (dict[str, Tensor | float]): scalars to log (detached
            tensors, read by MMEngine's logging without a sync here).
    """
    grads: List[Tensor]
    log_vars: Dict[str, Union[Tensor, float]]


def _as_param_list(params: Iterable[Tensor], what: str) -> List[Tensor]:
    params = list(params)
    if not params:
        raise ValueError(f'BilevelProblem: {what} is empty')
    for i, p in enumerate(params):
        if not isinstance(p, Tensor) or not p.is_leaf or not p.requires_grad:
            raise ValueError(
                f'BilevelProblem: {what}[{i}] must be a leaf tensor with '
                f'requires_grad=True (an nn.Parameter)')
    if len({id(p) for p in params}) != len(params):
        raise ValueError(f'BilevelProblem: {what} lists a tensor twice')
    return params


class BilevelProblem:
    """One instance of the bilevel problem, as seen by a strategy.

    Args:
        arch_params (Iterable[Tensor]): α, non-empty.
        weight_params (Iterable[Tensor]): θ, non-empty, disjoint from α.
        train_batch (Any): Input of the lower loss.
        val_batch (Any): Input of the upper loss.
        train_loss (Callable, optional): ``f: train_loss(batch) -> Tensor``.
        val_loss (Callable, optional): ``F: val_loss(batch) -> Tensor``.
        loss_fn (Callable, optional): Used as both f and F instead.
        weight_optimizer (optional): The optimizer (or ``OptimWrapper``) of
            θ; only read (learning rates, momentum buffers).
    """

    def __init__(self,
                 arch_params: Iterable[Tensor],
                 weight_params: Iterable[Tensor],
                 *,
                 train_batch: Any,
                 val_batch: Any,
                 train_loss: Optional[LossFn] = None,
                 val_loss: Optional[LossFn] = None,
                 loss_fn: Optional[LossFn] = None,
                 weight_optimizer: Optional[Any] = None) -> None:
        self.arch_params = _as_param_list(arch_params, 'arch_params')
        self.weight_params = _as_param_list(weight_params, 'weight_params')
        arch_ids = {id(p) for p in self.arch_params}
        if any(id(p) in arch_ids for p in self.weight_params):
            raise ValueError('BilevelProblem: arch_params and weight_params '
                             'share a tensor; the two levels must be disjoint')
        if loss_fn is not None:
            if train_loss is not None or val_loss is not None:
                raise ValueError('BilevelProblem: give either loss_fn or '
                                 'train_loss and val_loss, not both')
            train_loss = val_loss = loss_fn
        if train_loss is None or val_loss is None:
            raise ValueError('BilevelProblem: needs train_loss and val_loss '
                             '(or a single loss_fn)')
        self.train_loss = train_loss
        self.val_loss = val_loss
        self.train_batch = train_batch
        self.val_batch = val_batch
        self.weight_optimizer = weight_optimizer

    def weight_param_groups(self, who: str) -> List[dict]:
        """The weight optimizer's param group of every weight parameter
        (``who`` prefixes error messages).
        """
        if self.weight_optimizer is None:
            raise ValueError(f'{who} needs the weight optimizer (to read its '
                             'learning rate); pass weight_optimizer= to the '
                             'BilevelProblem or set the step size explicitly')
        optimizer = getattr(self.weight_optimizer, 'optimizer',
                            self.weight_optimizer)
        group_of = {
            id(p): group
            for group in optimizer.param_groups
            for p in group['params']
        }
        groups = []
        for i, p in enumerate(self.weight_params):
            if id(p) not in group_of:
                raise ValueError(
                    f'{who}: weight_params[{i}] (shape {tuple(p.shape)}) is '
                    'not optimised by the weight optimizer')
            groups.append(group_of[id(p)])
        return groups

    def weight_lrs(self, who: str) -> List[float]:
        """The current learning rate of every weight parameter."""
        return [float(g['lr']) for g in self.weight_param_groups(who)]

    def weight_lr(self, who: str, option: str) -> float:
        """The one learning rate of all weight parameters (else a
        ValueError that asks to set ``option``)."""
        lrs = set(self.weight_lrs(who))
        if len(lrs) != 1:
            raise ValueError(
                f'{who}: the weight parameters have different learning '
                f'rates {sorted(lrs)}; set {option} explicitly')
        return lrs.pop()


class BaseBilevelStrategy(metaclass=ABCMeta):
    """Base class of the strategies that compute α-gradients.

    Subclasses implement :meth:`_hypergradient`, differentiating with
    ``torch.autograd.grad`` w.r.t. explicit lists (no θ ``.grad`` is touched)
    and leaving θ bit-exactly as found. :meth:`hypergradient` returns the
    gradients, :meth:`step` writes them into ``α.grad``.
    """

    @property
    def name(self) -> str:
        """The class name, used in error messages."""
        return type(self).__name__

    def hypergradient(self, problem: BilevelProblem) -> HyperGradient:
        """The α-gradients (``hypergrad_norm`` logged), written nowhere.
        Logged values are detached tensors, read by MMEngine's logging; a
        NaN / Inf gradient is refused by the α optimizer's step guard
        (``FiniteStepGuardHook``)."""
        return self._checked(*self._hypergradient(problem))

    def _checked(self,
                 grads: List[Tensor],
                 log_vars: Dict[str, Union[Tensor, float]],
                 role: str = '') -> HyperGradient:
        """``grads`` with their norm logged (under ``role/``)."""
        key = f'{role}/hypergrad_norm' if role else 'hypergrad_norm'
        log_vars[key] = flat_norm(grads).detach()
        return HyperGradient(grads, log_vars)

    def step(self, problem: BilevelProblem
             ) -> Dict[str, Union[Tensor, float]]:
        """Write the hypergradient into ``α.grad``; returns the log dict."""
        hypergrad = self.hypergradient(problem)
        for p, g in zip(problem.arch_params, hypergrad.grads):
            p.grad = g.detach().clone()
        return hypergrad.log_vars

    @abstractmethod
    def _hypergradient(
            self,
            problem: BilevelProblem
    ) -> Tuple[List[Tensor], Dict[str, Union[Tensor, float]]]:
        """Return the α-gradients (aligned with ``problem.arch_params``) and
        the scalars to log (detached tensors or numbers)."""

    def _loss_and_grads(self, loss_fn: LossFn, batch: Any,
                        inputs: Sequence[Tensor],
                        role: str) -> Tuple[Tensor, List[Optional[Tensor]]]:
        """A loss (detached) and its gradients (None where unused), averaged
        over the ranks."""
        loss = scalar_loss(loss_fn, batch, f'{self.name}: {role}')
        grads = grads_wrt(loss, inputs)
        return average_value(loss.detach()), grads

    def _require_arch_dependence(
            self, *arch_grads: Sequence[Optional[Tensor]]) -> None:
        """Raise unless some loss depends on some architecture parameter."""
        if all(g is None for grads in arch_grads for g in grads):
            raise ValueError(
                f'{self.name}: the losses do not depend on any of the '
                'architecture parameters, so their hypergradient is '
                'identically zero; pass the α tensors the forward actually '
                'uses (e.g. model.arch_parameters())')

    def _require_weight_dependence(self,
                                   weight_grads: Sequence[Optional[Tensor]],
                                   role: str) -> None:
        """Raise unless the given loss depends on some weight parameter."""
        if all(g is None for g in weight_grads):
            raise ValueError(
                f'{self.name}: the {role} does not depend on any of the '
                'weight parameters; pass the θ tensors the forward actually '
                'uses (e.g. model.weight_parameters())')


def build_task_util(cfg: Any) -> Any:
    """``cfg`` built by ``TASK_UTILS`` in the ``mmfusenas`` scope when it is
    a config, else itself."""
    if isinstance(cfg, Mapping):
        with DefaultScope.overwrite_default_scope('mmfusenas'):
            return TASK_UTILS.build(cfg)
    return cfg


def build_strategy(cfg: Any, who: str) -> BaseBilevelStrategy:
    """A :class:`BaseBilevelStrategy` from itself or its config (``who``
    names it in the error)."""
    strategy = build_task_util(cfg)
    if not isinstance(strategy, BaseBilevelStrategy):
        raise TypeError(f'{who} must be a BaseBilevelStrategy (or its '
                        f'config), got {type(strategy).__name__}')
    return strategy
