"""A DDP model wrapper under which a search algorithm runs its own step."""
from typing import Any, Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmfusenas.models.mutables import one_shot_space
from mmfusenas.registry import MODEL_WRAPPERS
from mmfusenas.utils.checkpoint import short_list
from mmfusenas.utils.distributed import (averaged_optimizer_steps,
                                         broadcast_buffers_, data_parallel)


@MODEL_WRAPPERS.register_module()
class AlgorithmDistributedDataParallel(MMDistributedDataParallel):
    """Data-parallel wrapper for plain models and search algorithms.

    ``'algorithm'`` mode runs the module's own ``train_step`` (which DDP's
    reducer cannot follow) with gradients averaged at each optimizer step
    (of the wrappers its ``grad_sync_groups`` names, default all), then
    broadcasts rank 0's buffers. ``'ddp'`` mode is MMEngine's DDP step.
    ``'auto'`` picks ``'algorithm'`` for a module that overrides
    ``train_step`` or holds one-shot choice points.

    Args:
        module (BaseModel): The model.
        mode (str): ``'algorithm'``, ``'ddp'`` or ``'auto'`` (default).
        device_ids (list[int], optional): As for DDP; dropped on the CPU.
        **kwargs: Other arguments of ``DistributedDataParallel``.
    """

    def __init__(self,
                 module: BaseModel,
                 mode: str = 'auto',
                 device_ids: Optional[List[int]] = None,
                 **kwargs: Any) -> None:
        if mode not in ('auto', 'algorithm', 'ddp'):
            raise ValueError("AlgorithmDistributedDataParallel: mode must be "
                             f"'auto', 'algorithm' or 'ddp', got {mode!r}")
        if mode == 'auto':
            own = type(module).train_step is not BaseModel.train_step
            mode = 'algorithm' if own or one_shot_space(module) else 'ddp'
        if all(p.device.type == 'cpu' for p in module.parameters()):
            device_ids = None
            # torch's and mmcv's (sync_bn='mmcv') SyncBatchNorm need CUDA
            names = [repr(name) for name, m in module.named_modules()
                     if type(m).__name__ == 'SyncBatchNorm']
            if names:
                raise RuntimeError(
                    'AlgorithmDistributedDataParallel: SyncBatchNorm layers '
                    f'({short_list(names, 3)}) need CUDA, the model runs on '
                    'the CPU. Remove `sync_bn` from the config or use GPUs')
        super().__init__(module=module, device_ids=device_ids, **kwargs)
        self.mode = mode

    def _synced_wrappers(
            self, optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
    ) -> List[OptimWrapper]:
        if not isinstance(optim_wrapper, OptimWrapperDict):
            return [optim_wrapper]
        keys = list(optim_wrapper.keys())
        names = getattr(self.module, 'grad_sync_groups', None)
        unknown = sorted(set(names or ()) - set(keys))
        if unknown:
            raise KeyError(f'{type(self.module).__name__}.grad_sync_groups '
                           f'{unknown} not in the optim wrapper ({keys})')
        return [optim_wrapper[k] for k in (keys if names is None else names)]

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        """One data-parallel train step (see the class docstring)."""
        if self.mode == 'ddp':
            with data_parallel():
                return super().train_step(data, optim_wrapper)
        with data_parallel(), averaged_optimizer_steps(
                self._synced_wrappers(optim_wrapper)):
            log_vars = self.module.train_step(data, optim_wrapper)
        broadcast_buffers_(list(self.module.buffers()))
        return log_vars
