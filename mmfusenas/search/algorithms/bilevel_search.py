"""Differentiable bilevel architecture search as an MMEngine model."""
import copy
import inspect
from typing import (Any, Dict, Iterable, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from torch import Tensor

from mmfusenas.models.mutables import (ArchParams, Genotype,
                                       bind_arch_params, config_at,
                                       derive_choices, nested_space_keys,
                                       reachable_keys)
from mmfusenas.registry import MODELS
from mmfusenas.utils.typing_utils import ModuleConfigType
from ..estimators.resource_estimator import detached
from ..strategies import BaseBilevelStrategy, BilevelProblem
from .base import BaseSearchAlgorithm, frozen_parameters, num_choice_points

Regularizer = Any  # ``prepare(supernet, arch_params, inputs)`` + ``__call__``


def record_submodule_inputs(model: nn.Module, submodule: nn.Module,
                            data: dict) -> Any:
    """The inputs ``submodule`` receives in ``model``'s loss forward on
    ``data`` (recorded once without gradients; buffers restored).

    Returns:
        Tensor | tuple | dict: one tensor, positional inputs or keyword
        inputs (positional ones bound to their names), as
        :func:`~mmfusenas.search.estimators.split_inputs` reads them.

    Raises:
        RuntimeError: ``submodule`` did not run in the forward.
    """
    captured = []
    forward = submodule.forward

    def recording_forward(*args, **kwargs):
        if not captured:
            captured.append((detached(args), detached(kwargs)))
        return forward(*args, **kwargs)

    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    submodule.forward = recording_forward
    try:
        with torch.no_grad():
            model(**data, mode='loss')
    finally:
        del submodule.forward
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
    if not captured:
        raise RuntimeError(
            f'{type(submodule).__name__} did not run in the loss forward of '
            f'{type(model).__name__}, so its inputs cannot be recorded')
    args, kwargs = captured[0]
    if not kwargs:
        if len(args) == 1 and isinstance(args[0], Tensor):
            return args[0]
        return tuple(args)
    bound = inspect.signature(forward).bind_partial(*args, **kwargs)
    return dict(bound.arguments)


@MODELS.register_module()
class BilevelSearchAlgorithm(BaseSearchAlgorithm):
    """Search the choice points of an architecture with a bilevel strategy.

    Every :class:`~mmfusenas.models.mutables.DiffMixedOp` of the supernet
    (any model with a ``'loss'`` mode) is bound to one
    :class:`~mmfusenas.models.mutables.ArchParams`: α
    (:meth:`arch_parameters`); θ are the architecture's weights
    (:meth:`weight_parameters`). :meth:`train_step` takes ``data =
    dict(train=batch, val=batch)`` and the ``'weights'`` / ``'arch'``
    optimizers (:class:`BilevelOptimWrapperConstructor`). Every
    ``arch_update_interval``-th call it first lets ``strategy`` write α.grad
    for the :class:`~mmfusenas.search.BilevelProblem` (lower loss on the
    train batch, upper loss plus the regulariser on the val batch) and steps
    α; every call then takes one weight step on the train batch with α
    frozen. :meth:`derive_genotype` gives the derived network.

    Args:
        architecture (dict): Config of the supernet (a config, so that the
            derived network can be written as one).
        strategy (dict | BaseBilevelStrategy): How α is updated, e.g.
            ``dict(type='IASStrategy')`` (``TASK_UTILS``).
        space_path (str): Dotted path of the searchable sub-network, which
            holds every choice point (``''``: the whole architecture).
            Defaults to ``'fusion_net'``.
        arch_update_interval (int): T: α is updated on every T-th call.
            Defaults to 1.
        regularizer (dict | object, optional): with ``prepare(space,
            arch_params, space_inputs)`` (called before the first α step)
            and ``__call__(arch_params) -> Tensor``, a weighted scalar added
            to the upper loss. Not model state. Defaults to None.
        arch_init_std (float): std of the initial α. Defaults to 1e-3.
        frozen_modules (Sequence[str]): see :class:`BaseSearchAlgorithm`.
        data_preprocessor (dict | nn.Module, optional): see
            :class:`BaseSearchAlgorithm`.
        init_cfg (dict, optional): Weight initialisation config.

    Raises:
        ValueError: The searchable sub-network has no choice points, there
            are choice points outside it, or ``arch_update_interval < 1``.
    """

    architecture_must_be_config = True

    def __init__(self,
                 architecture: dict,
                 strategy: Union[dict, BaseBilevelStrategy],
                 space_path: str = 'fusion_net',
                 arch_update_interval: int = 1,
                 regularizer: Optional[Union[dict, Regularizer]] = None,
                 arch_init_std: float = 1e-3,
                 frozen_modules: Sequence[str] = (),
                 data_preprocessor: Optional[ModuleConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        arch_update_interval = self.check_interval(
            arch_update_interval,
            'BilevelSearchAlgorithm: arch_update_interval')
        space_cfg = copy.deepcopy(
            config_at(architecture, space_path, 'space_path')) if isinstance(
                architecture, Mapping) else None
        super().__init__(
            architecture,
            data_preprocessor=data_preprocessor,
            frozen_modules=frozen_modules,
            init_cfg=init_cfg)
        self.space_path = space_path
        self._space_cfg = space_cfg
        self.arch_update_interval = arch_update_interval

        space = self.space
        num_in_space = num_choice_points(space)
        if num_in_space == 0:
            raise ValueError(
                f'BilevelSearchAlgorithm: {type(space).__name__} at '
                f'space_path {space_path!r} has no choice points '
                '(DiffMixedOp); there is nothing to search. Define the '
                "candidates with dict(type='DiffMixedOp', key=..., "
                'candidates=[...]) in its config.')
        outside = num_choice_points(self.architecture) - num_in_space
        if outside:
            raise ValueError(
                f'BilevelSearchAlgorithm: {outside} choice point(s) lie '
                f'outside space_path {space_path!r}, so the derived genotype '
                'could not fix them; point space_path at the sub-network '
                "holding all of them ('' for the whole architecture)")
        self.arch_params = ArchParams(init_std=arch_init_std)
        bind_arch_params(space, self.arch_params)
        self._register_step_counter()
        self.strategy = self.build_strategy(strategy)
        regularizer = self.build_task_util(regularizer)
        usable = callable(regularizer) and hasattr(regularizer, 'prepare')
        if regularizer is not None and not usable:
            raise TypeError(
                'BilevelSearchAlgorithm: regularizer must have '
                'prepare(supernet, arch_params, example_inputs) and '
                f'__call__(arch_params); got {type(regularizer).__name__}')
        # kept outside the module tree: its tables are not model state
        object.__setattr__(self, 'regularizer', regularizer)
        self._regularizer_ready = False
        # keys whose α the α steps update (None: all); ArchScheduleHook
        self.active_arch_keys: Optional[Tuple[str, ...]] = None

    @property
    def space(self) -> nn.Module:
        """The searchable sub-network (the module at ``space_path``)."""
        return self.architecture.get_submodule(self.space_path)

    def arch_parameters(self) -> List[nn.Parameter]:
        """α: the parameters of :attr:`arch_params`."""
        return list(self.arch_params.parameters())

    def weight_parameters(self) -> List[nn.Parameter]:
        """θ: the parameters of the architecture (the weight optimizer's,
        except those of :attr:`frozen_modules`)."""
        return self.unfrozen_parameters()

    def trainable_weight_parameters(self) -> List[nn.Parameter]:
        """θ that currently requires grad (the bilevel problem's)."""
        return [p for p in self.weight_parameters() if p.requires_grad]

    @property
    def arch_step_due(self) -> bool:
        """Whether the next :meth:`train_step` updates α (needs ``val``)."""
        if self.active_arch_keys is not None and not self.active_arch_keys:
            return False  # a warm-up stage: weights only
        return (self.num_train_steps + 1) % self.arch_update_interval == 0

    def set_active_arch_keys(self,
                             keys: Optional[Iterable[str]] = None) -> None:
        """Restrict the α steps to the α of ``keys`` (a staged search).

        The others keep their values and optimizer state; an empty list
        turns the α steps off.

        Args:
            keys (Iterable[str], optional): architecture keys; None (the
                default) activates every key.
        """
        if keys is None:
            self.active_arch_keys = None
            return
        keys = tuple(keys)
        unknown = [k for k in keys if k not in self.arch_params.keys()]
        if unknown:
            raise KeyError(f'BilevelSearchAlgorithm: no α for {unknown}; '
                           f'the keys are {list(self.arch_params.keys())}')
        self.active_arch_keys = keys

    def active_arch_parameters(self) -> List[nn.Parameter]:
        """The α updated by the α steps (all unless a stage restricts)."""
        if self.active_arch_keys is None:
            return self.arch_parameters()
        return [self.arch_params.alphas[k] for k in self.active_arch_keys]

    def total_loss(self, data: dict) -> Tensor:
        """``parse_losses`` of the architecture's losses on a batch."""
        losses = self.architecture(**data, mode='loss')
        return self.parse_losses(losses)[0]

    def regularization(self) -> Tensor:
        """The regulariser's value at the current α (0 without one)."""
        if self.regularizer is None:
            return self.arch_parameters()[0].new_zeros(())
        value = self.regularizer(self.arch_params)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise TypeError(
                f'{type(self.regularizer).__name__} must return a scalar '
                f'tensor, got {value!r}')
        return value.reshape(())

    def space_inputs(self, data: dict) -> Any:
        """The inputs the searchable part receives on a preprocessed batch.

        With ``space_path=''`` they are ``data['inputs']``; otherwise they
        are recorded with :func:`record_submodule_inputs`.

        Returns:
            Tensor | tuple | dict: as :func:`record_submodule_inputs`.

        Raises:
            RuntimeError: the space did not run in the forward.
        """
        if self.space is self.architecture:
            return data['inputs']
        try:
            return record_submodule_inputs(self.architecture, self.space,
                                           data)
        except RuntimeError as err:
            raise RuntimeError(f'BilevelSearchAlgorithm: the space '
                               f'{self.space_path!r}: {err}') from None

    def upper_loss(self, data: dict) -> Tensor:
        """F: :meth:`total_loss` plus :meth:`regularization`."""
        return self.total_loss(data) + self.regularization()

    def train_step(self, data: dict,
                   optim_wrapper: Mapping) -> Dict[str, Union[Tensor, float]]:
        """One weight step, preceded by an α step every T-th call.

        Args:
            data (dict): ``dict(train=batch, val=batch)`` (``val`` needed when
                :attr:`arch_step_due`).
            optim_wrapper (OptimWrapperDict): ``'weights'`` and ``'arch'``.

        Returns:
            dict: the weight losses and, on α steps, the strategy's log and
            ``arch_reg`` (with a regulariser).
        """
        weights_ow, arch_ow = self._split_optim_wrapper(optim_wrapper)
        train_data, val_data = self._train_val(data, self.arch_step_due)
        log_vars: Dict[str, Any] = {}
        if val_data is not None:
            log_vars.update(
                self._arch_step(train_data, val_data, weights_ow, arch_ow))

        with weights_ow.optim_context(self), \
                frozen_parameters(self.arch_parameters()):
            losses = self.architecture(**train_data, mode='loss')
            loss, weight_log = self.parse_losses(losses)
            weights_ow.update_params(loss)
        self._count_step()
        weight_log.update(log_vars)
        return weight_log

    def _arch_step(self, train_data: dict, val_data: dict,
                   weights_ow: OptimWrapper,
                   arch_ow: OptimWrapper) -> Dict[str, Tensor]:
        """Write the hypergradient into α.grad, step and zero the α
        optimizer."""
        log_vars = {}
        if self.regularizer is not None:
            if not self._regularizer_ready:
                self.regularizer.prepare(self.space, self.arch_params,
                                         self.space_inputs(train_data))
                # an impossible hard budget fails before the first α step
                check = getattr(self.regularizer, 'check_budget', None)
                if check is not None:
                    check(self.arch_params, nested_space_keys(self._space_cfg))
                self._regularizer_ready = True
            with torch.no_grad():
                log_vars['arch_reg'] = self.regularization()
        for p in self.arch_parameters():
            p.grad = None
        problem = BilevelProblem(
            self.active_arch_parameters(),
            self.trainable_weight_parameters(),
            train_batch=train_data,
            val_batch=val_data,
            train_loss=self.total_loss,
            val_loss=self.upper_loss,
            weight_optimizer=weights_ow)
        log_vars.update(self._upper_step(arch_ow, problem))
        return log_vars

    def derive_genotype(self, meta: Optional[dict] = None) -> Genotype:
        """The current derived architecture: every choice point's most probable
        candidate (``'zero'`` only if it is the only one), fitted to a
        regulariser's hard budget; ``meta`` is merged into the genotype's.
        """
        choices = derive_choices(self.space)
        probabilities = self.arch_params.probabilities()
        info = dict(
            strategy=type(self.strategy).__name__,
            space_path=self.space_path,
            train_steps=self.num_train_steps)
        fit = getattr(self.regularizer, 'fit_to_budget', None)
        if fit is not None and self._regularizer_ready:
            choices, budget_info = fit(
                choices,
                self.arch_params,
                reachable=lambda c: reachable_keys(self._space_cfg, c))
            info.update(budget_info)
        info.update(meta or {})
        return Genotype.from_space(
            self._space_cfg,
            choices,
            probabilities={k: probabilities[k]
                           for k in choices},
            meta=info)
