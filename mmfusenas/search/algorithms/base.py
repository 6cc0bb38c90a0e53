"""The base of the search algorithms: an architecture inside an algorithm.

As MMRazor's ``BaseAlgorithm`` (``mmrazor/models/algorithms/base.py``), a
search algorithm is an MMEngine model that owns the model it searches or
trains (:attr:`~BaseSearchAlgorithm.architecture`) and runs it for
``val_step`` / ``test_step`` / ``forward``; the algorithm adds the upper
level (architecture parameters, loss weights, hyper-guidance) and its own
``train_step``. :class:`BaseSearchAlgorithm` gives every algorithm the same
architecture building, data-preprocessor policy
(:meth:`BaseSearchAlgorithm.resolve_data_preprocessor`), frozen
sub-modules (``frozen_modules``), strategy building and two-optimizer
check.
"""
import logging
from contextlib import contextmanager
from typing import (Any, Iterable, Iterator, List, Mapping, Optional,
                    Sequence, Set, Tuple)

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from torch import Tensor

from mmfusenas.models.mutables import DiffMixedOp
from mmfusenas.registry import MODELS, TASK_UTILS
from mmfusenas.utils.typing_utils import ModuleConfigType, OptModuleConfigType
from ..strategies import BaseBilevelStrategy


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

    Data preprocessor (one policy for every algorithm):

    - None (the default): the architecture's own preprocessor, so batches
      are preprocessed once, by the algorithm, exactly as the architecture
      would;
    - a config while the architecture has a preprocessor of its own (any
      type but MMEngine's plain ``BaseDataPreprocessor``): ignored with a
      warning. MMEngine's runner passes a config's top-level
      ``data_preprocessor`` (which mmdet / mmseg base configs define) to the
      outer model, where it would replace the architecture's (e.g. a
      ``SegDataPreProcessor`` fed paired fusion inputs fails with
      ``KeyError: 0`` inside mmseg);
    - a config while the architecture has only the plain preprocessor: built
      (``MODELS``);
    - a module: used as given.

    Args:
        architecture (dict | nn.Module): the model (``MODELS`` config, or a
            built module unless :attr:`architecture_must_be_config`).
        data_preprocessor (dict | nn.Module, optional): see above.
        frozen_modules (Sequence[str]): dotted paths of architecture
            sub-modules held fixed (e.g. a pre-trained detector backbone,
            ``['detector.backbone']``): their parameters get
            ``requires_grad=False``, :meth:`unfrozen_parameters` leaves them
            out (the weight optimizer's parameters), and they stay in eval
            mode (BN statistics frozen) whatever :meth:`train` is given.
            They must hold no choice points. Defaults to ().
        init_cfg (dict, optional): weight initialisation config.

    Raises:
        TypeError: ``architecture`` is a module where a config is needed.
        ValueError: a ``frozen_modules`` entry is not a sub-module path or
            holds choice points.
    """

    #: whether ``architecture`` must be a config (an algorithm that
    #: rewrites the config, e.g. to derive the searched network)
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

    # ------------------------------------------------------------------
    # building
    # ------------------------------------------------------------------
    @classmethod
    def resolve_data_preprocessor(
            cls, data_preprocessor: OptModuleConfigType,
            architecture: nn.Module) -> Optional[nn.Module]:
        """The algorithm's data preprocessor (the policy of the class
        docstring).

        Args:
            data_preprocessor (dict | nn.Module, optional): as given to the
                algorithm.
            architecture (nn.Module): the built architecture.

        Returns:
            nn.Module: the preprocessor to use.
        """
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

    def build_strategy(self, strategy: Any) -> BaseBilevelStrategy:
        """A :class:`BaseBilevelStrategy` from itself or its ``TASK_UTILS``
        config (built in the ``mmfusenas`` scope, whatever the runner's
        default scope, e.g. ``'mmseg'`` from an mmseg base config)."""
        if isinstance(strategy, Mapping):
            with DefaultScope.overwrite_default_scope('mmfusenas'):
                strategy = TASK_UTILS.build(strategy)
        if not isinstance(strategy, BaseBilevelStrategy):
            raise TypeError(f'{type(self).__name__}: strategy must be a '
                            'BaseBilevelStrategy (or its config), got '
                            f'{type(strategy).__name__}')
        return strategy

    # ------------------------------------------------------------------
    # parameters and modes
    # ------------------------------------------------------------------
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

    # ------------------------------------------------------------------
    # steps
    # ------------------------------------------------------------------
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

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor',
                **kwargs: Any) -> Any:
        """Run the architecture."""
        return self.architecture(inputs, data_samples, mode=mode, **kwargs)
