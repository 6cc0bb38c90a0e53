"""The bilevel problem, the model protocol and the strategy base class.

Differentiable architecture search is the bilevel problem
``min_α F(θ*(α), α)`` s.t. ``θ*(α) = argmin_θ f(θ, α)``, with α the
architecture parameters, θ the weights, F the upper (validation) loss and
f the lower (training) loss. A *strategy* (:class:`BaseBilevelStrategy`)
turns one :class:`BilevelProblem` (the two parameter lists, the two
losses, a train and a val batch, optionally the weight optimizer) into an
approximation ``G ≈ dF/dα`` of the hypergradient (:class:`HyperGradient`).
It writes ``α.grad`` and nothing else; stepping the optimizers is the
caller's job. :class:`SearchableModel` is the protocol of the models.
"""
from abc import ABCMeta, abstractmethod
from typing import (Any, Dict, Iterable, List, NamedTuple, Optional, Protocol,
                    Sequence, Tuple, runtime_checkable)

import torch
from torch import Tensor

from mmfusenas.utils.distributed import average_value
from .functional import LossFn, flat_norm, grads_wrt, scalar_loss


@runtime_checkable
class SearchableModel(Protocol):
    """What a model must expose to be searched by a strategy.

    The two methods split the model's trainable tensors into the two levels
    of the bilevel problem; the two iterables must be disjoint and may be
    generators (they are materialised once per strategy step)::

        class MySupernet(BaseModel):
            def arch_parameters(self):    # α: read by the mixed ops
                return self.arch_params.parameters()

            def weight_parameters(self):  # θ: everything else
                return (p for n, p in self.named_parameters()
                        if not n.startswith('arch_params.'))
    """

    def arch_parameters(self) -> Iterable[Tensor]:
        """The architecture parameters α (upper level)."""

    def weight_parameters(self) -> Iterable[Tensor]:
        """The operation weights θ (lower level)."""


class HyperGradient(NamedTuple):
    """What :meth:`BaseBilevelStrategy.hypergradient` returns.

    Attributes:
        grads (list[Tensor]): One tensor per architecture parameter, in the
            order of ``problem.arch_params``; detached, not written anywhere.
        log_vars (dict[str, float]): Scalars worth logging (losses, the
            Gauss–Newton coefficient, ``hypergrad_norm``, ...).
    """
    grads: List[Tensor]
    log_vars: Dict[str, float]


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

    Either give ``train_loss`` and ``val_loss`` (lower f and upper F), or one
    ``loss_fn`` used for both on the two batches (TIM: the same search loss
    on the training and the validation split).

    Args:
        arch_params (Iterable[Tensor]): α, non-empty.
        weight_params (Iterable[Tensor]): θ, non-empty, disjoint from α.
        train_batch (Any): Input of the lower loss.
        val_batch (Any): Input of the upper loss.
        train_loss (Callable, optional): ``f: train_loss(batch) -> Tensor``.
        val_loss (Callable, optional): ``F: val_loss(batch) -> Tensor``.
        loss_fn (Callable, optional): Used as both f and F.
        weight_optimizer (optional): The optimizer of θ (a
            ``torch.optim.Optimizer`` or an MMEngine ``OptimWrapper``). Only
            read (learning rates, SGD momentum buffers), never stepped.
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

    @classmethod
    def from_model(cls, model: SearchableModel,
                   **kwargs: Any) -> 'BilevelProblem':
        """Build the problem of a :class:`SearchableModel`.

        Args:
            model (SearchableModel): Gives ``arch_parameters()`` and
                ``weight_parameters()``.
            **kwargs: The keyword arguments of :class:`BilevelProblem`.
        """
        if not isinstance(model, SearchableModel):
            raise TypeError(
                f'{type(model).__name__} does not follow the SearchableModel '
                'protocol: it needs arch_parameters() and weight_parameters()')
        return cls(model.arch_parameters(), model.weight_parameters(),
                   **kwargs)

    def weight_param_groups(self, who: str) -> List[dict]:
        """The weight optimizer's param group of every weight parameter.

        Args:
            who (str): Prefix of error messages (the calling strategy).

        Returns:
            list[dict]: Aligned with ``weight_params``.
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


class BaseBilevelStrategy(metaclass=ABCMeta):
    """Base class of the strategies that compute α-gradients.

    Subclasses implement :meth:`_hypergradient`. Every strategy:

    * differentiates with ``torch.autograd.grad`` with respect to explicit
      lists, so it never writes or reads a weight parameter's ``.grad``;
    * leaves θ bit-exactly as it found it (virtual weights are swapped in
      and the original data copied back);
    * checks the result: a hypergradient that is not finite raises
      :class:`FloatingPointError` naming the strategy.

    Use :meth:`hypergradient` to get the gradient tensors without side
    effects (to combine strategies, e.g. RUAS's cooperative search adds
    ``β·∇_α L_val^t``), or :meth:`step` / :meth:`step_model` to write them
    into ``α.grad`` and get the log dict.
    """

    @property
    def name(self) -> str:
        """The class name, used in error messages."""
        return type(self).__name__

    def hypergradient(self, problem: BilevelProblem) -> HyperGradient:
        """Compute the α-gradients without writing anything.

        Args:
            problem (BilevelProblem): The current bilevel problem.

        Returns:
            HyperGradient: ``grads`` aligned with ``problem.arch_params`` and
            the ``log_vars`` of the step (always with ``hypergrad_norm``).
        """
        grads, log_vars = self._hypergradient(problem)
        bad = [i for i, g in enumerate(grads) if not torch.isfinite(g).all()]
        if bad:
            raise FloatingPointError(
                f'{self.name}: the hypergradient of arch_params{bad} is not '
                f'finite (log: {log_vars})')
        log_vars['hypergrad_norm'] = flat_norm(grads).item()
        return HyperGradient(grads, log_vars)

    def step(self, problem: BilevelProblem) -> Dict[str, float]:
        """Write the hypergradient into ``α.grad`` (replacing it).

        Only the architecture parameters' ``.grad`` change; the caller then
        steps the α optimizer.

        Returns:
            dict[str, float]: The log dict of :meth:`hypergradient`.
        """
        hypergrad = self.hypergradient(problem)
        for p, g in zip(problem.arch_params, hypergrad.grads):
            p.grad = g.detach().clone()
        return hypergrad.log_vars

    def step_model(self, model: SearchableModel,
                   **kwargs: Any) -> Dict[str, float]:
        """:meth:`step` on ``BilevelProblem.from_model(model, **kwargs)``."""
        return self.step(BilevelProblem.from_model(model, **kwargs))

    @abstractmethod
    def _hypergradient(
            self,
            problem: BilevelProblem) -> Tuple[List[Tensor], Dict[str, float]]:
        """Return the α-gradients (aligned with ``problem.arch_params``) and
        the scalars to log."""

    def _loss_and_grads(self, loss_fn: LossFn, batch: Any,
                        inputs: Sequence[Tensor],
                        role: str) -> Tuple[Tensor, List[Optional[Tensor]]]:
        """Evaluate a loss and its gradients (``None`` where unused).

        In a data-parallel step both are the means over the ranks."""
        loss = scalar_loss(loss_fn, batch, f'{self.name}: {role}')
        grads = grads_wrt(loss, inputs)
        return loss.new_tensor(average_value(loss.item())), grads

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
