"""The base of the search algorithms: a model that owns an architecture
(as MMRazor's ``BaseAlgorithm``) and shares the data-preprocessor policy,
frozen sub-modules, strategy building and the steps of the two levels."""
import logging
from contextlib import contextmanager
from typing import (Any, Dict, Iterable, Iterator, List, Mapping, Optional,
                    Sequence, Set, Tuple)

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmengine.optim import OptimWrapper
from torch import Tensor

from mmfusenas.models.mutables import DiffMixedOp
from mmfusenas.registry import MODELS
from mmfusenas.utils.typing_utils import ModuleConfigType, OptModuleConfigType
from ..strategies.base import (BaseBilevelStrategy, build_strategy,
                               build_task_util)


def num_choice_points(module: nn.Module) -> int:
    """The number of :class:`DiffMixedOp` choice points in ``module``."""
    return sum(isinstance(m, DiffMixedOp) for m in module.modules())


@contextmanager
def frozen_parameters(params: Iterable[Tensor]) -> Iterator[None]:
    """Temporarily set ``requires_grad=False`` on ``params`` (those that
    require grad now get it back on exit)."""
    params = [p for p in params if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class BaseSearchAlgorithm(BaseModel):
    """An MMEngine model that owns, builds and runs an architecture.

    Data preprocessor: None uses the architecture's own; a config is
    ignored (with a warning) while the architecture has a preprocessor of
    its own (the runner passes mmdet / mmseg base configs' top-level
    ``data_preprocessor`` here), else built; a module is used as given.

    Args:
        architecture (dict | nn.Module): the model (``MODELS`` config, or a
            built module unless :attr:`architecture_must_be_config`).
        data_preprocessor (dict | nn.Module, optional): see above.
        frozen_modules (Sequence[str]): dotted paths of sub-modules held
            fixed (no gradients, left out of :meth:`unfrozen_parameters`,
            always in eval mode), e.g. ``['detector.backbone']``; they must
            hold no choice points. Defaults to ().
        init_cfg (dict, optional): weight initialisation config.

    Raises:
        TypeError: ``architecture`` is a module where a config is needed.
        ValueError: a ``frozen_modules`` entry is not a sub-module path or
            holds choice points.
    """

    #: whether ``architecture`` must be a config (to derive genotypes)
    architecture_must_be_config: bool = False

    def __init__(self,
                 architecture: ModuleConfigType,
                 data_preprocessor: OptModuleConfigType = None,
                 frozen_modules: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        name = type(self).__name__
        if isinstance(architecture, Mapping):
            arch_model = MODELS.build(architecture)
        elif self.architecture_must_be_config:
            raise TypeError(
                f'{name}: architecture must be a model config (dict), so '
                'that the derived network can be written as a config; got '
                f'{type(architecture).__name__}')
        elif isinstance(architecture, nn.Module):
            arch_model = architecture
        else:
            raise TypeError(f'{name}: architecture must be a model config '
                            '(dict) or an nn.Module, got '
                            f'{type(architecture).__name__}')
        super().__init__(
            data_preprocessor=self.resolve_data_preprocessor(
                data_preprocessor, arch_model),
            init_cfg=init_cfg)
        self.architecture = arch_model
        self.frozen_modules = self._freeze(frozen_modules)

    @classmethod
    def resolve_data_preprocessor(
            cls, data_preprocessor: OptModuleConfigType,
            architecture: nn.Module) -> Optional[nn.Module]:
        """The algorithm's data preprocessor (see the class docstring)."""
        own = getattr(architecture, 'data_preprocessor', None)
        if isinstance(data_preprocessor, Mapping) and own is not None and \
                type(own) is not BaseDataPreprocessor:
            print_log(
                f'{cls.__name__}: ignoring data_preprocessor='
                f'{dict(data_preprocessor)} (e.g. the top-level '
                'data_preprocessor of an mmdet / mmseg base config, which '
                'the runner passes on): the architecture preprocesses its '
                f'inputs with its own {type(own).__name__}. Set '
                '`data_preprocessor = None` at the top level to silence '
                'this.',
                logger='current',
                level=logging.WARNING)
            return own
        if data_preprocessor is None:
            return own
        if isinstance(data_preprocessor, Mapping):
            return MODELS.build(data_preprocessor)
        return data_preprocessor

    def _freeze(self, frozen_modules: Sequence[str]) -> List[str]:
        """Check and freeze ``frozen_modules``; returns them as a list."""
        name = type(self).__name__
        paths = list(frozen_modules)
        for path in paths:
            if not isinstance(path, str) or not path:
                raise ValueError(
                    f'{name}: frozen_modules must list dotted sub-module '
                    f'paths of the architecture, got {path!r}')
            try:
                module = self.architecture.get_submodule(path)
            except AttributeError:
                raise ValueError(
                    f'{name}: frozen_modules entry {path!r} is not a '
                    'sub-module of the architecture') from None
            if num_choice_points(module):
                raise ValueError(
                    f'{name}: frozen_modules entry {path!r} holds choice '
                    'points; only fixed parts can be frozen')
            module.requires_grad_(False)
        return paths

    build_task_util = staticmethod(build_task_util)

    def build_strategy(self, strategy: Any) -> BaseBilevelStrategy:
        """A :class:`BaseBilevelStrategy` from itself or its config."""
        return build_strategy(strategy, f'{type(self).__name__}: strategy')

    def frozen_parameter_ids(self) -> Set[int]:
        """``id`` of every parameter of :attr:`frozen_modules`."""
        return {
            id(p)
            for path in self.frozen_modules
            for p in self.architecture.get_submodule(path).parameters()
        }

    def unfrozen_parameters(self) -> List[nn.Parameter]:
        """The architecture's parameters outside :attr:`frozen_modules`."""
        frozen = self.frozen_parameter_ids()
        return [
            p for p in self.architecture.parameters() if id(p) not in frozen
        ]

    def train(self, mode: bool = True) -> 'BaseSearchAlgorithm':
        """Set the mode; :attr:`frozen_modules` always stay in eval."""
        super().train(mode)
        for path in self.frozen_modules:
            self.architecture.get_submodule(path).eval()
        return self

    def _split_optim_wrapper(
            self, optim_wrapper: Mapping) -> Tuple[OptimWrapper, OptimWrapper]:
        """``(optim_wrapper['weights'], optim_wrapper['arch'])``, or a
        ``TypeError`` that says how to configure the two optimizers."""
        keys = list(optim_wrapper.keys()) if hasattr(optim_wrapper,
                                                     'keys') else []
        if 'weights' not in keys or 'arch' not in keys:
            raise TypeError(
                f'{type(self).__name__} needs an OptimWrapperDict with the '
                "keys 'weights' and 'arch', got "
                f'{type(optim_wrapper).__name__} with keys {keys}; use '
                'optim_wrapper=dict(constructor='
                "'BilevelOptimWrapperConstructor', weights=dict(...), "
                'arch=dict(...))')
        return optim_wrapper['weights'], optim_wrapper['arch']

    @staticmethod
    def check_interval(value: Any, what: str) -> int:
        """``value`` as an int, or a ValueError unless it is an integer >= 1.
        """
        if int(value) != value or value < 1:
            raise ValueError(f'{what} must be an integer >= 1, got {value}')
        return int(value)

    def _register_step_counter(self) -> None:
        """A ``train_step_count`` buffer (saved in checkpoints) and its copy
        on the host, read by the steps without waiting for the device and
        set again whenever a state dict is loaded."""
        self.register_buffer('train_step_count',
                             torch.zeros((), dtype=torch.long))
        self._num_steps = 0
        self.register_load_state_dict_post_hook(
            lambda module, _: setattr(module, '_num_steps',
                                      int(module.train_step_count)))

    def _count_step(self) -> None:
        """Count a ``train_step`` (buffer and host copy)."""
        self.train_step_count += 1
        self._num_steps += 1

    @property
    def num_train_steps(self) -> int:
        """Calls of ``train_step`` so far (saved in checkpoints)."""
        return self._num_steps

    def _train_val(self, data: Any,
                   upper_due: bool) -> Tuple[dict, Optional[dict]]:
        """Preprocess ``data = dict(train=batch, val=batch)``; ``val`` only
        when ``upper_due`` (else None).

        Raises:
            TypeError: ``data`` is not such a dict.
            ValueError: ``upper_due`` and there is no ``val`` batch.
        """
        name = type(self).__name__
        if not isinstance(data, Mapping) or 'train' not in data:
            raise TypeError(
                f'{name}.train_step expects data = dict(train=batch, '
                'val=batch) from a bilevel loop (train_cfg=dict(type='
                f"'BilevelEpochBasedTrainLoop', ...)), got "
                f'{type(data).__name__}')
        train = self.data_preprocessor(data['train'], True)
        if not upper_due:
            return train, None
        if data.get('val') is None:
            raise ValueError(
                f'{name}: train step {self.num_train_steps} updates the '
                "upper level and needs data['val'] (a batch of the "
                'architecture split)')
        return train, self.data_preprocessor(data['val'], True)

    def _upper_step(self, arch_ow: OptimWrapper,
                    problem: Any = None) -> Dict[str, Any]:
        """``strategy.step(problem)`` (when given), then step and zero the
        upper optimizer; returns the strategy's log."""
        log_vars = {} if problem is None else dict(self.strategy.step(problem))
        arch_ow.step()
        arch_ow.zero_grad()
        return log_vars

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor',
                **kwargs: Any) -> Any:
        """Run the architecture."""
        return self.architecture(inputs, data_samples, mode=mode, **kwargs)
