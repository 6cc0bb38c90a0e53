"""Build the two optimizers of a bilevel search: weights θ and arch α."""
import copy
from typing import Optional

import torch.nn as nn
from mmengine.optim import OptimWrapperDict

from mmfusenas.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                                OPTIMIZERS)
from mmfusenas.utils.distributed import unwrap

LEVELS = ('weights', 'arch')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BilevelOptimWrapperConstructor:
    """An ``OptimWrapperDict`` of ``weights`` (over
    ``model.weight_parameters()``) and ``arch`` (``model.arch_parameters()``,
    only stepped and zeroed), one optim wrapper config each (no AMP).

    Example::

        optim_wrapper = dict(
            constructor='BilevelOptimWrapperConstructor',
            weights=dict(optimizer=dict(type='SGD', lr=1e-3, momentum=0.9),
                         clip_grad=dict(max_norm=5)),
            arch=dict(optimizer=dict(type='Adam', lr=3e-4)))
        param_scheduler = dict(weights=[...], arch=[])  # both keys

    Args:
        optim_wrapper_cfg (dict): ``weights`` and ``arch`` configs only.
        paramwise_cfg (dict, optional): Must be None.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        keys = set(optim_wrapper_cfg)
        if paramwise_cfg is not None or keys != set(LEVELS) or any(
                'optimizer' not in optim_wrapper_cfg[k] for k in keys):
            raise ValueError(
                'BilevelOptimWrapperConstructor: optim_wrapper needs exactly '
                "the sub-configs 'weights' and 'arch', each with an "
                "'optimizer', and no paramwise_cfg; missing "
                f'{sorted(set(LEVELS) - keys)}, unexpected '
                f'{sorted(keys - set(LEVELS))}')
        self.optim_wrapper_cfg = copy.deepcopy(optim_wrapper_cfg)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = unwrap(model)
        if not callable(getattr(model, 'arch_parameters', None)):
            raise TypeError(
                f'BilevelOptimWrapperConstructor: {type(model).__name__} has '
                'no weight_parameters() / arch_parameters(); use a search '
                'algorithm such as BilevelSearchAlgorithm')
        wrappers = {}
        for level, params in zip(LEVELS, (model.weight_parameters(),
                                          model.arch_parameters())):
            cfg = {'type': 'OptimWrapper',
                   **copy.deepcopy(self.optim_wrapper_cfg[level])}
            cfg['optimizer'] = OPTIMIZERS.build(
                dict(cfg['optimizer'], params=list(params)))
            wrappers[level] = OPTIM_WRAPPERS.build(cfg)
        return OptimWrapperDict(**wrappers)
