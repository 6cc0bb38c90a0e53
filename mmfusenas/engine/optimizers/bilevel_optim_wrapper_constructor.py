"""Build the two optimizers of a bilevel search: weights θ and arch α."""
import copy
from typing import Optional

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmfusenas.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                                OPTIMIZERS)

LEVELS = ('weights', 'arch')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BilevelOptimWrapperConstructor:
    """An ``OptimWrapperDict`` with one optimizer per level: ``weights``
    over ``model.weight_parameters()``, ``arch`` over
    ``model.arch_parameters()``.
    Config::

        optim_wrapper = dict(
            constructor='BilevelOptimWrapperConstructor',
            weights=dict(optimizer=dict(type='SGD', lr=1e-3, momentum=0.9),
                         clip_grad=dict(max_norm=5)),
            arch=dict(optimizer=dict(type='Adam', lr=3e-4)))
        param_scheduler = dict(weights=[...], arch=[])  # both keys

    Each level is an optimizer-wrapper config (``type`` defaults to
    ``'OptimWrapper'``); the arch wrapper is only stepped and zeroed, so its
    ``clip_grad`` and ``accumulative_counts`` have no effect. No AMP.

    Args:
        optim_wrapper_cfg (dict): ``weights`` and ``arch`` configs only.
        paramwise_cfg (dict, optional): not supported; must be None.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg is not None:
            raise ValueError('BilevelOptimWrapperConstructor does not '
                             'support paramwise_cfg')
        if not isinstance(optim_wrapper_cfg, dict):
            raise TypeError('optim_wrapper must be a dict, got '
                            f'{type(optim_wrapper_cfg).__name__}')
        keys = set(optim_wrapper_cfg)
        if keys != set(LEVELS):
            raise ValueError(
                "BilevelOptimWrapperConstructor: optim_wrapper needs exactly "
                f"the sub-configs 'weights' and 'arch'; missing "
                f'{sorted(set(LEVELS) - keys)}, unexpected '
                f'{sorted(keys - set(LEVELS))}')
        for level in LEVELS:
            cfg = optim_wrapper_cfg[level]
            if not isinstance(cfg, dict) or 'optimizer' not in cfg:
                raise ValueError(
                    f"BilevelOptimWrapperConstructor: optim_wrapper.{level} "
                    "must be an optimizer-wrapper config with an 'optimizer'"
                    f', got {cfg!r}')
        self.optim_wrapper_cfg = copy.deepcopy(optim_wrapper_cfg)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """The ``OptimWrapperDict(weights=..., arch=...)`` of ``model``."""
        if is_model_wrapper(model):
            model = model.module
        for method in ('weight_parameters', 'arch_parameters'):
            if not callable(getattr(model, method, None)):
                raise TypeError(
                    f'BilevelOptimWrapperConstructor: {type(model).__name__}'
                    f' has no {method}(); use a search algorithm such as '
                    'BilevelSearchAlgorithm')
        params = dict(
            weights=list(model.weight_parameters()),
            arch=list(model.arch_parameters()))
        wrappers = {}
        for level in LEVELS:
            if not params[level]:
                raise ValueError(f'BilevelOptimWrapperConstructor: '
                                 f'{type(model).__name__} has no {level} '
                                 'parameters')
            cfg = copy.deepcopy(self.optim_wrapper_cfg[level])
            cfg.setdefault('type', 'OptimWrapper')
            optimizer_cfg = cfg.pop('optimizer')
            optimizer_cfg['params'] = params[level]
            cfg['optimizer'] = OPTIMIZERS.build(optimizer_cfg)
            wrapper = OPTIM_WRAPPERS.build(cfg)
            if not isinstance(wrapper, OptimWrapper):
                raise TypeError(f'optim_wrapper.{level} built a '
                                f'{type(wrapper).__name__}, not an '
                                'OptimWrapper')
            wrappers[level] = wrapper
        return OptimWrapperDict(**wrappers)
