"""Differentiable bilevel architecture search as an MMEngine model."""
import copy
import inspect
from typing import (Any, Dict, Iterable, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from torch import Tensor

from mmfusenas.models.mutables import (ArchParams, Genotype,
                                       bind_arch_params, config_at,
                                       derive_choices, nested_space_keys,
                                       reachable_keys)
from mmfusenas.registry import MODELS, TASK_UTILS
from mmfusenas.utils.distributed import check_finite
from mmfusenas.utils.typing_utils import ModuleConfigType
from ..strategies import BaseBilevelStrategy, BilevelProblem
from .base import BaseSearchAlgorithm, frozen_parameters, num_choice_points

Regularizer = Any  # ``prepare(supernet, arch_params, inputs)`` + ``__call__``


def _detached(obj: Any) -> Any:
    """``obj`` with every tensor detached (nested tuples / lists / dicts)."""
    if isinstance(obj, Tensor):
        return obj.detach()
    if isinstance(obj, (tuple, list)):
        return type(obj)(_detached(v) for v in obj)
    if isinstance(obj, dict):
        return {k: _detached(v) for k, v in obj.items()}
    return obj


def record_submodule_inputs(model: nn.Module, submodule: nn.Module,
                            data: dict) -> Any:
    """The inputs ``submodule`` receives in ``model``'s loss forward.

    ``submodule.forward`` is wrapped (which also catches heads that call
    ``self.forward`` directly, as mmseg's ``loss`` does) during one forward
    ``model(**data, mode='loss')`` without gradients; every buffer of
    ``model`` (BatchNorm running statistics) is restored afterwards. The
    first call is recorded.

    Args:
        model (nn.Module): a model whose ``forward(inputs, data_samples,
            mode)`` runs ``submodule``.
        submodule (nn.Module): a submodule of ``model``.
        data (dict): a preprocessed batch (``inputs``, ``data_samples``).

    Returns:
        Tensor | tuple | dict: one tensor (a single tensor input), a tuple
        of positional inputs (a neck's one input is itself a tuple of
        feature maps: ``(feats, )``), or a dict of keyword inputs
        (positional ones bound to their parameter names), as
        :func:`~mmfusenas.search.estimators.split_inputs` reads them.

    Raises:
        RuntimeError: ``submodule`` did not run in the forward.
    """
    captured = []
    forward = submodule.forward

    def recording_forward(*args, **kwargs):
        if not captured:
            captured.append((_detached(args), _detached(kwargs)))
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

    The algorithm owns the supernet (``architecture``, any model whose
    ``forward(inputs, data_samples, mode='loss')`` returns a dict of losses,
    e.g. an :class:`~mmfusenas.models.ImageFusor`) and one
    :class:`~mmfusenas.models.mutables.ArchParams` container to which every
    :class:`~mmfusenas.models.mutables.DiffMixedOp` of the supernet is bound.
    The two levels of the bilevel problem are disjoint parameter sets:
    :meth:`weight_parameters` (θ, the architecture's parameters) and
    :meth:`arch_parameters` (α, the container's).

    One :meth:`train_step` receives ``data = dict(train=batch, val=batch)``
    and an ``OptimWrapperDict`` with the keys ``'weights'`` and ``'arch'``
    (build it with :class:`BilevelOptimWrapperConstructor`). On every
    ``arch_update_interval``-th call (calls ``T-1, 2T-1, ...`` counted from
    0, so exactly T weight steps separate two α steps — TIM Alg. 1, lines
    3–4) it first updates α:

    1. both batches go through the data preprocessor;
    2. a :class:`~mmfusenas.search.BilevelProblem` is built with the lower
       loss ``f = Σ architecture losses`` on the train batch and the upper
       loss ``F = Σ architecture losses (+ regulariser(α))`` on the val
       batch, and the weight optimizer (read only, for learning rates and
       SGD state);
    3. ``strategy.step(problem)`` writes ``α.grad`` (and nothing else);
    4. the arch optimizer steps and zeroes ``α.grad``.

    Then, on every call, the weights take one step on the train batch with
    ``optim_wrapper['weights'].update_params(loss)``; during this forward /
    backward α has ``requires_grad=False``, so no gradient of the lower loss
    ever reaches ``α.grad`` and the strategy never touches ``θ.grad``: the
    two levels' gradients never mix.

    ``val_step`` / ``test_step`` / ``forward`` run the architecture, i.e.
    the supernet with the current α. :meth:`derive_genotype` gives the
    derived fixed network.

    Args:
        architecture (dict): Config of the supernet model (built with
            ``MODELS.build``). A config, not a module, because the derived
            network is obtained by rewriting it (see ``space_path``).
        strategy (dict | BaseBilevelStrategy): How α is updated, e.g.
            ``dict(type='IASStrategy')`` or
            ``dict(type='DartsSecondOrderStrategy')`` (``TASK_UTILS``).
        space_path (str): Dotted path, in the architecture config and
            equally in the built architecture, of the searchable sub-network
            (``'fusion_net'`` for an ImageFusor, ``'fusion_net.stage1'`` for
            the first stage of a two-stage net, ``''`` for the whole
            architecture). Genotypes are derived for this sub-config, and
            every choice point of the architecture must lie inside it.
            Defaults to ``'fusion_net'``.
        arch_update_interval (int): T ≥ 1: α is updated on every T-th call
            of :meth:`train_step` (DARTS: 1; TIM's IAS: T inner weight steps,
            20 in the paper). Defaults to 1.
        regularizer (dict | object, optional): An architecture regulariser
            (``TASK_UTILS`` config or object) with
            ``prepare(supernet, arch_params, example_inputs) -> None``,
            called once before the first α step with the searchable
            sub-network, the :class:`ArchParams` and the inputs that the
            sub-network receives on that step's train batch
            (:meth:`space_inputs`: e.g. the backbone features for a neck),
            and ``__call__(arch_params) ->
            Tensor``, a scalar already weighted by its trade-off λ, added to
            the upper loss only (TIM's ``ℓ_α = ℓ_F + λ·Reg(α)``). It is not
            part of the model's state dict. Defaults to None.
        arch_init_std (float): α is initialised as ``arch_init_std ·
            N(0, 1)`` (DARTS). Defaults to 1e-3.
        frozen_modules (Sequence[str]): dotted paths of architecture
            sub-modules held fixed during the search (TIM and RUAS fix the
            pre-trained backbone during the high-level search, e.g.
            ``['detector.backbone']``): their parameters get
            ``requires_grad=False`` and are left out of the weight
            optimizer and of the bilevel problem, and they stay in eval
            mode (BN statistics frozen). They must hold no choice points.
            Defaults to ().
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's own data preprocessor; the policy of
            :class:`~mmfusenas.search.algorithms.base.BaseSearchAlgorithm`
            (a config is ignored while the architecture has its own).
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
        if int(arch_update_interval) != arch_update_interval or \
                arch_update_interval < 1:
            raise ValueError('BilevelSearchAlgorithm: arch_update_interval '
                             f'must be an integer >= 1, got '
                             f'{arch_update_interval}')
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
        self.arch_update_interval = int(arch_update_interval)

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
        # the step counter is state: a resumed search keeps its α schedule
        self.register_buffer('train_step_count',
                             torch.zeros((), dtype=torch.long))

        self.strategy = self.build_strategy(strategy)
        if isinstance(regularizer, Mapping):
            with DefaultScope.overwrite_default_scope('mmfusenas'):
                regularizer = TASK_UTILS.build(regularizer)
        usable = callable(regularizer) and hasattr(regularizer, 'prepare')
        if regularizer is not None and not usable:
            raise TypeError(
                'BilevelSearchAlgorithm: regularizer must have '
                'prepare(supernet, arch_params, example_inputs) and '
                f'__call__(arch_params); got {type(regularizer).__name__}')
        # kept outside the module tree: its tables are not model state
        object.__setattr__(self, 'regularizer', regularizer)
        self._regularizer_ready = False
        # keys whose α the α steps update (None: all); set by a staged
        # schedule (ArchScheduleHook), not model state
        self.active_arch_keys: Optional[Tuple[str, ...]] = None

    # ------------------------------------------------------------------
    # the two levels
    # ------------------------------------------------------------------
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
        """The weight level of the bilevel problem: θ that currently
        requires grad.

        Frozen parameters (``requires_grad=False``: :attr:`frozen_modules`,
        a backbone's ``frozen_stages`` -- mmdet's default 1 --, BN with
        ``requires_grad=False``, a frozen N_F) are constants of both levels
        and are left out, so strategies never see a non-leaf / no-grad θ.
        """
        return [p for p in self.weight_parameters() if p.requires_grad]

    @property
    def num_train_steps(self) -> int:
        """Calls of :meth:`train_step` so far (saved in checkpoints)."""
        return int(self.train_step_count)

    @property
    def arch_step_due(self) -> bool:
        """Whether the next :meth:`train_step` updates α (and so needs
        ``data['val']``). The bilevel loops draw an architecture batch only
        then."""
        if self.active_arch_keys is not None and not self.active_arch_keys:
            return False  # a warm-up stage: weights only
        return (self.num_train_steps + 1) % self.arch_update_interval == 0

    def set_active_arch_keys(self,
                             keys: Optional[Iterable[str]] = None) -> None:
        """Restrict the α steps to the α of ``keys`` (a staged search).

        The others keep their values and their optimizer state (their
        ``.grad`` is None, so the α optimizer skips them, also its weight
        decay and momentum). An empty list turns the α steps off (a
        weights-only warm-up; the loops then draw no α batches).

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

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    def total_loss(self, data: dict) -> Tensor:
        """Sum of the architecture's losses on a preprocessed batch.

        The keys containing ``'loss'`` are summed, as in
        :meth:`~mmengine.model.BaseModel.parse_losses`.
        """
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

        A cost regulariser measures the space at *its* input shapes: the
        neck gets the backbone's feature maps, a decode head the neck's,
        TIM's stage 2 ``(inputs, fused)``. They are recorded by wrapping
        ``space.forward`` (which also catches heads that call
        ``self.forward`` directly) during one forward of the architecture
        (no gradients; BatchNorm running statistics and every other buffer
        are restored afterwards, so the search is unchanged by it). With
        ``space_path=''`` the space is the whole architecture and its input
        is ``data['inputs']``.

        Args:
            data (dict): a preprocessed batch (``inputs``, ``data_samples``).

        Returns:
            Tensor | tuple | dict: one tensor (a single positional input),
            a tuple of positional inputs, or a dict of keyword inputs
            (positional ones bound to their parameter names), as
            :func:`~mmfusenas.search.estimators.split_inputs` reads them.

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
            data (dict): ``dict(train=batch, val=batch)``, each a batch as
                yielded by a dataloader; ``val`` is needed only when
                :attr:`arch_step_due`.
            optim_wrapper (OptimWrapperDict): With the keys ``'weights'``
                and ``'arch'``.

        Returns:
            dict[str, Tensor | float]: The weight losses (``loss`` and the
            architecture's named losses) and, on α steps, the strategy's log
            (``upper_loss``, ``hypergrad_norm``, ...) and ``arch_reg`` (the
            regulariser's value, when there is one).
        """
        weights_ow, arch_ow = self._split_optim_wrapper(optim_wrapper)
        if not isinstance(data, Mapping) or 'train' not in data:
            raise TypeError(
                'BilevelSearchAlgorithm.train_step expects data = '
                'dict(train=batch, val=batch) from a bilevel loop '
                "(train_cfg=dict(type='BilevelEpochBasedTrainLoop', ...)), "
                f'got {type(data).__name__}')
        train_data = self.data_preprocessor(data['train'], True)
        log_vars: Dict[str, Any] = {}
        if self.arch_step_due:
            if data.get('val') is None:
                raise ValueError(
                    f'BilevelSearchAlgorithm: train step '
                    f'{self.num_train_steps} updates α and needs '
                    "data['val'] (a batch of the architecture split)")
            val_data = self.data_preprocessor(data['val'], True)
            log_vars.update(
                self._arch_step(train_data, val_data, weights_ow, arch_ow))

        with weights_ow.optim_context(self), \
                frozen_parameters(self.arch_parameters()):
            losses = self.architecture(**train_data, mode='loss')
            loss, weight_log = self.parse_losses(losses)
            # collective under data parallelism: all ranks stop together
            check_finite(
                loss, 'BilevelSearchAlgorithm: the weight loss',
                f' at train step {self.num_train_steps}: '
                f'{ {k: v.item() for k, v in weight_log.items()} }; check '
                'the inputs and the learning rates')
            weights_ow.update_params(loss)
        self.train_step_count += 1
        weight_log.update(log_vars)
        return weight_log

    def _arch_step(self, train_data: dict, val_data: dict,
                   weights_ow: OptimWrapper,
                   arch_ow: OptimWrapper) -> Dict[str, float]:
        """Write the hypergradient into α.grad, step and zero the α
        optimizer."""
        log_vars = {}
        if self.regularizer is not None:
            if not self._regularizer_ready:
                self.regularizer.prepare(self.space, self.arch_params,
                                         self.space_inputs(train_data))
                # a hard budget no architecture meets fails here, before
                # the first α update (regularisers with budget=)
                check = getattr(self.regularizer, 'check_budget', None)
                if check is not None:
                    check(self.arch_params, nested_space_keys(self._space_cfg))
                self._regularizer_ready = True
            with torch.no_grad():
                reg = self.regularization()
            if not torch.isfinite(reg):
                raise FloatingPointError(
                    f'{type(self.regularizer).__name__} is {reg.item()}')
            log_vars['arch_reg'] = reg.item()
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
        log_vars.update(self.strategy.step(problem))
        arch_ow.step()
        arch_ow.zero_grad()
        return log_vars

    # ------------------------------------------------------------------
    # inference and export
    # ------------------------------------------------------------------
    def derive_genotype(self, meta: Optional[dict] = None) -> Genotype:
        """The current derived architecture.

        Every choice point picks its candidate of largest ``softmax(α)``
        (never ``'zero'`` unless it is the only one); the network is
        ``fix_space_cfg(space sub-config, choices)``.

        Args:
            meta (dict, optional): Merged into the genotype's ``meta``
                (which holds ``strategy``, ``space_path`` and
                ``train_steps``).

        Returns:
            Genotype: choices, fixed network config, probabilities.
        """
        choices = derive_choices(self.space)
        probabilities = self.arch_params.probabilities()
        info = dict(
            strategy=type(self.strategy).__name__,
            space_path=self.space_path,
            train_steps=self.num_train_steps)
        fit = getattr(self.regularizer, 'fit_to_budget', None)
        if fit is not None and self._regularizer_ready:
            # a regulariser's hard budget (budget=) applies to the derived
            # architecture
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
