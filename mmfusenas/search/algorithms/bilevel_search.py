"""Differentiable bilevel architecture search as an MMEngine model."""
import copy
import logging
from contextlib import contextmanager
from typing import (Any, Dict, Iterable, Iterator, List, Mapping, Optional,
                    Sequence, Tuple, Union)

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from torch import Tensor

from mmfusenas.models.mutables import (ArchParams, DiffMixedOp, Genotype,
                                       config_at,
                                       bind_arch_params, derive_choices)
from mmfusenas.registry import MODELS, TASK_UTILS
from ..strategies import BaseBilevelStrategy, BilevelProblem

ConfigType = Union[dict, nn.Module]
Regularizer = Any  # ``prepare(supernet, arch_params, inputs)`` + ``__call__``


def _num_mutables(module: nn.Module) -> int:
    return sum(isinstance(m, DiffMixedOp) for m in module.modules())


@contextmanager
def _frozen(params: Iterable[Tensor]) -> Iterator[None]:
    """Temporarily set ``requires_grad=False`` on ``params``."""
    params = [p for p in params if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


@MODELS.register_module()
class BilevelSearchAlgorithm(BaseModel):
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
            sub-network, the :class:`ArchParams` and the preprocessed inputs
            of that step's train batch, and ``__call__(arch_params) ->
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
            architecture's own data preprocessor. A config given here while
            the architecture has a preprocessor of its own is ignored (with
            a warning): MMEngine's runner passes a config's top-level
            ``data_preprocessor`` (which mmdet / mmseg base configs define)
            to the outer model, where it would replace the architecture's
            (e.g. a ``SegDataPreProcessor`` fed paired fusion inputs fails
            with ``KeyError: 0`` inside mmseg).
        init_cfg (dict, optional): Weight initialisation config.

    Raises:
        ValueError: The searchable sub-network has no choice points, there
            are choice points outside it, or ``arch_update_interval < 1``.
    """

    def __init__(self,
                 architecture: dict,
                 strategy: Union[dict, BaseBilevelStrategy],
                 space_path: str = 'fusion_net',
                 arch_update_interval: int = 1,
                 regularizer: Optional[Union[dict, Regularizer]] = None,
                 arch_init_std: float = 1e-3,
                 frozen_modules: Sequence[str] = (),
                 data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if not isinstance(architecture, Mapping):
            raise TypeError(
                'BilevelSearchAlgorithm: architecture must be a model config '
                '(dict), so that the derived network can be written as a '
                f'config; got {type(architecture).__name__}')
        if int(arch_update_interval) != arch_update_interval or \
                arch_update_interval < 1:
            raise ValueError('BilevelSearchAlgorithm: arch_update_interval '
                             f'must be an integer >= 1, got '
                             f'{arch_update_interval}')
        space_cfg = copy.deepcopy(
            config_at(architecture, space_path, 'space_path'))
        arch_model = MODELS.build(architecture)
        own = arch_model.data_preprocessor
        if isinstance(data_preprocessor, Mapping) and \
                type(own) is not BaseDataPreprocessor:
            print_log(
                f'BilevelSearchAlgorithm: ignoring data_preprocessor='
                f'{dict(data_preprocessor)} (e.g. the top-level '
                'data_preprocessor of an mmdet / mmseg base config, which '
                'the runner passes on): the architecture preprocesses its '
                f'inputs with its own {type(own).__name__}. Set '
                '`data_preprocessor = None` at the top level to silence '
                'this.',
                logger='current',
                level=logging.WARNING)
            data_preprocessor = None
        if data_preprocessor is None:
            data_preprocessor = own
        elif isinstance(data_preprocessor, Mapping):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.architecture = arch_model
        self.space_path = space_path
        self._space_cfg = space_cfg
        self.arch_update_interval = int(arch_update_interval)

        space = self.space
        num_in_space = _num_mutables(space)
        if num_in_space == 0:
            raise ValueError(
                f'BilevelSearchAlgorithm: {type(space).__name__} at '
                f'space_path {space_path!r} has no choice points '
                '(DiffMixedOp); there is nothing to search. Define the '
                "candidates with dict(type='DiffMixedOp', key=..., "
                'candidates=[...]) in its config.')
        outside = _num_mutables(self.architecture) - num_in_space
        if outside:
            raise ValueError(
                f'BilevelSearchAlgorithm: {outside} choice point(s) lie '
                f'outside space_path {space_path!r}, so the derived genotype '
                'could not fix them; point space_path at the sub-network '
                "holding all of them ('' for the whole architecture)")
        self.frozen_modules = list(frozen_modules)
        for path in self.frozen_modules:
            if not isinstance(path, str) or not path:
                raise ValueError(
                    'BilevelSearchAlgorithm: frozen_modules must list dotted '
                    f'sub-module paths of the architecture, got {path!r}')
            try:
                frozen = self.architecture.get_submodule(path)
            except AttributeError:
                raise ValueError(
                    f'BilevelSearchAlgorithm: frozen_modules entry {path!r} '
                    'is not a sub-module of the architecture') from None
            if _num_mutables(frozen):
                raise ValueError(
                    f'BilevelSearchAlgorithm: frozen_modules entry {path!r} '
                    'holds choice points; only fixed parts can be frozen')
            frozen.requires_grad_(False)
        self.arch_params = ArchParams(init_std=arch_init_std)
        bind_arch_params(space, self.arch_params)
        # the step counter is state: a resumed search keeps its α schedule
        self.register_buffer('train_step_count',
                             torch.zeros((), dtype=torch.long))

        if isinstance(strategy, Mapping):
            # our registry whatever the runner's default scope (e.g. 'mmseg'
            # from an mmseg base config)
            with DefaultScope.overwrite_default_scope('mmfusenas'):
                strategy = TASK_UTILS.build(strategy)
        if not isinstance(strategy, BaseBilevelStrategy):
            raise TypeError('BilevelSearchAlgorithm: strategy must be a '
                            'BaseBilevelStrategy (or its config), got '
                            f'{type(strategy).__name__}')
        self.strategy = strategy
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
        frozen = {
            id(p)
            for path in self.frozen_modules
            for p in self.architecture.get_submodule(path).parameters()
        }
        return [
            p for p in self.architecture.parameters() if id(p) not in frozen
        ]

    def trainable_weight_parameters(self) -> List[nn.Parameter]:
        """The weight level of the bilevel problem: θ that currently
        requires grad.

        Frozen parameters (``requires_grad=False``: :attr:`frozen_modules`,
        a backbone's ``frozen_stages`` -- mmdet's default 1 --, BN with
        ``requires_grad=False``, a frozen N_F) are constants of both levels
        and are left out, so strategies never see a non-leaf / no-grad θ.
        """
        return [p for p in self.weight_parameters() if p.requires_grad]

    def train(self, mode: bool = True) -> 'BilevelSearchAlgorithm':
        """Set the mode; :attr:`frozen_modules` always stay in eval."""
        super().train(mode)
        for path in self.frozen_modules:
            self.architecture.get_submodule(path).eval()
        return self

    @property
    def num_train_steps(self) -> int:
        """Calls of :meth:`train_step` so far (saved in checkpoints)."""
        return int(self.train_step_count)

    @property
    def arch_step_due(self) -> bool:
        """Whether the next :meth:`train_step` updates α (and so needs
        ``data['val']``). The bilevel loops draw an architecture batch only
        then."""
        return (self.num_train_steps + 1) % self.arch_update_interval == 0

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
                _frozen(self.arch_parameters()):
            losses = self.architecture(**train_data, mode='loss')
            loss, weight_log = self.parse_losses(losses)
            if not torch.isfinite(loss):
                parts = {k: v.item() for k, v in weight_log.items()}
                raise FloatingPointError(
                    f'BilevelSearchAlgorithm: the weight loss is not finite '
                    f'at train step {self.num_train_steps}: {parts}; check '
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
                                         train_data['inputs'])
                self._regularizer_ready = True
            with torch.no_grad():
                reg = self.regularization()
            if not torch.isfinite(reg):
                raise FloatingPointError(
                    f'{type(self.regularizer).__name__} is {reg.item()}')
            log_vars['arch_reg'] = reg.item()
        problem = BilevelProblem(
            self.arch_parameters(),
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

    @staticmethod
    def _split_optim_wrapper(
            optim_wrapper: Mapping) -> Tuple[OptimWrapper, OptimWrapper]:
        keys = list(optim_wrapper.keys()) if hasattr(optim_wrapper,
                                                     'keys') else []
        if 'weights' not in keys or 'arch' not in keys:
            raise TypeError(
                'BilevelSearchAlgorithm needs an OptimWrapperDict with the '
                "keys 'weights' and 'arch', got "
                f'{type(optim_wrapper).__name__} with keys {keys}; use '
                'optim_wrapper=dict(constructor='
                "'BilevelOptimWrapperConstructor', weights=dict(...), "
                'arch=dict(...))')
        return optim_wrapper['weights'], optim_wrapper['arch']

    # ------------------------------------------------------------------
    # inference and export
    # ------------------------------------------------------------------
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Any:
        """Run the architecture (the supernet with the current α)."""
        return self.architecture(inputs, data_samples, mode=mode)

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
        info.update(meta or {})
        return Genotype.from_space(
            self._space_cfg,
            choices,
            probabilities={k: probabilities[k]
                           for k in choices},
            meta=info)
