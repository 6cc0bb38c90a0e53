"""A DDP model wrapper under which a search algorithm runs its own step."""
from typing import Any, Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmfusenas.models.mutables import one_shot_space
from mmfusenas.registry import MODEL_WRAPPERS
from mmfusenas.utils.distributed import (averaged_optimizer_steps,
                                         broadcast_buffers_, check_finite,
                                         data_parallel)

MODES = ('auto', 'algorithm', 'ddp')


@MODEL_WRAPPERS.register_module()
class AlgorithmDistributedDataParallel(MMDistributedDataParallel):
    """Data-parallel wrapper for plain models and search algorithms.

    A search algorithm's ``train_step`` runs several forwards per step
    (the weight loss, the upper loss, virtual weights, finite differences)
    and differentiates with ``torch.autograd.grad``: DDP's reducer, which
    all-reduces during the ``.backward()`` that follows a forward through
    the DDP module, cannot follow it (and a DDP forward whose backward never
    runs breaks its next iteration). MMRazor therefore duplicates every
    algorithm's train step in a DDP subclass. This wrapper instead calls
    the algorithm's own ``train_step`` inside two scopes that make every
    rank compute the step of the *global* batch:

    * :func:`~mmfusenas.utils.distributed.data_parallel`: the gradients the
      strategies take (``grads_wrt``) are averaged over the ranks, so the
      hypergradient, the virtual weights of DARTS-2nd, the Gauss–Newton
      coefficient of IAS, the finite differences and the PMI inner steps are
      those of the global batch and every rank takes the same α step; loss
      checks are collective (a NaN on one rank raises the same
      ``FloatingPointError`` on all ranks);
    * :func:`~mmfusenas.utils.distributed.averaged_optimizer_steps`: every
      optim wrapper the step uses (weights, architecture, loss weights,
      predictor, ...) averages the ``.grad`` of its parameters before its
      own step (before gradient clipping). A parameter unused on some ranks
      counts as a zero gradient there; one unused on all ranks keeps
      ``grad=None``.

    After the step the module's buffers (BN running statistics, step
    counters) are broadcast from rank 0, as DDP does with
    ``broadcast_buffers=True``. A new algorithm only implements
    ``train_step`` (taking gradients with ``grads_wrt`` or ``.backward()``
    and stepping through the optim wrappers); it may restrict the averaged
    optim wrappers with a class attribute ``grad_sync_groups`` (names of the
    ``OptimWrapperDict`` keys; ``None``: all).

    A model that keeps :class:`~mmengine.model.BaseModel`'s ``train_step``
    (detectors, segmentors, fusion networks) is trained as by
    :class:`~mmengine.model.MMDistributedDataParallel`: one forward through
    DDP, gradients all-reduced by DDP's reducer during the backward
    (bucketed, overlapped with the backward), plus a collective check that
    the loss is finite.

    A one-shot supernet (a module with
    :class:`~mmfusenas.models.mutables.OneShotChoice` choice points) trains
    one sampled path per step: most of its parameters get no gradient in a
    step, which DDP's reducer refuses (or must search for with
    ``find_unused_parameters=True`` at every step). ``'auto'`` therefore
    runs its (``BaseModel``) ``train_step`` in the algorithm mode: the
    gradients are averaged at the optimizer step, the parameters off the
    path keep ``grad=None`` on every rank (the one-shot loop samples the
    same path on every rank), exactly as in one process.

    Parameters and buffers start from rank 0's values (DDP's constructor
    broadcasts them). BatchNorm: per-rank statistics unless the config
    asks for ``sync_bn='torch'`` (MMEngine converts the model before
    wrapping it). torch's ``SyncBatchNorm`` runs on CUDA only: a module on
    the CPU that holds one is refused here with an error naming the option.

    Args:
        module (nn.Module): The model (an MMEngine ``BaseModel``).
        mode (str): ``'algorithm'`` (the module's own step, as above),
            ``'ddp'`` (MMEngine's DDP step) or ``'auto'`` (default:
            ``'algorithm'`` when the module overrides ``train_step``).
        sync_buffers (bool): Broadcast the buffers from rank 0 after every
            algorithm step. Defaults to True.
        device_ids (list[int], optional): As for DDP; dropped for a module
            on the CPU (the runner passes ``[LOCAL_RANK]``).
        **kwargs: Other arguments of
            :class:`~torch.nn.parallel.DistributedDataParallel`
            (``find_unused_parameters``, ``broadcast_buffers``, ...).
    """

    def __init__(self,
                 module: BaseModel,
                 mode: str = 'auto',
                 sync_buffers: bool = True,
                 device_ids: Optional[List[int]] = None,
                 **kwargs: Any) -> None:
        if mode not in MODES:
            raise ValueError(f'AlgorithmDistributedDataParallel: mode must '
                             f'be one of {MODES}, got {mode!r}')
        if mode == 'auto':
            own = type(module).train_step is not BaseModel.train_step
            mode = 'algorithm' if own or one_shot_space(module) else 'ddp'
        on_cpu = all(p.device.type == 'cpu'
                     for p in module.parameters())
        if on_cpu:
            device_ids = None
            check_no_sync_batchnorm(module)
        super().__init__(module=module, device_ids=device_ids, **kwargs)
        self.mode = mode
        self.sync_buffers = sync_buffers

    @property
    def is_algorithm_step(self) -> bool:
        """Whether :meth:`train_step` calls the module's own step."""
        return self.mode == 'algorithm'

    def _synced_wrappers(
            self, optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
    ) -> List[OptimWrapper]:
        """The optim wrappers whose steps average gradients."""
        if not isinstance(optim_wrapper, OptimWrapperDict):
            return [optim_wrapper]
        names = getattr(self.module, 'grad_sync_groups', None)
        keys = list(optim_wrapper.keys())
        if names is None:
            names = keys
        unknown = sorted(set(names) - set(keys))
        if unknown:
            raise KeyError(
                f'{type(self.module).__name__}.grad_sync_groups names '
                f'{unknown}, which the optim wrapper does not have '
                f'(keys: {keys})')
        return [optim_wrapper[k] for k in names]

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        """One data-parallel train step (see the class docstring)."""
        if not self.is_algorithm_step:
            return self._ddp_train_step(data, optim_wrapper)
        with data_parallel(), averaged_optimizer_steps(
                self._synced_wrappers(optim_wrapper)):
            log_vars = self.module.train_step(data, optim_wrapper)
        if self.sync_buffers:
            self.broadcast_module_buffers()
        return log_vars

    def _ddp_train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        """MMEngine's DDP step with a collective finiteness check."""
        # data_parallel: the models' own loss checks become collective
        with data_parallel():
            with optim_wrapper.optim_context(self):
                data = self.module.data_preprocessor(data, training=True)
                losses = self._run_forward(data, mode='loss')
            parsed_loss, log_vars = self.module.parse_losses(losses)
            check_finite(
                parsed_loss, f'{type(self.module).__name__}: the loss',
                f' ({ {k: v.item() for k, v in log_vars.items()} })')
        optim_wrapper.update_params(parsed_loss)
        return log_vars

    def broadcast_module_buffers(self) -> None:
        """Give every rank rank 0's buffers."""
        broadcast_buffers_(list(self.module.buffers()))


def check_no_sync_batchnorm(module: torch.nn.Module) -> None:
    """Raise if ``module`` (on the CPU) holds a ``SyncBatchNorm``.

    torch's (and mmcv's) ``SyncBatchNorm`` all-reduces its statistics with
    CUDA kernels and fails in the first training forward on CPU tensors; the layer comes
    from the config's ``sync_bn`` (MMEngine converts the model before
    wrapping it), so the error names that option.
    """
    names = [
        name for name, m in module.named_modules()
        # torch's and mmcv's (mmcv.ops.SyncBatchNorm, sync_bn='mmcv')
        if type(m).__name__ == 'SyncBatchNorm'
    ]
    if names:
        shown = ', '.join(repr(n) for n in names[:3])
        more = f' and {len(names) - 3} more' if len(names) > 3 else ''
        raise RuntimeError(
            f'AlgorithmDistributedDataParallel: the model holds '
            f'SyncBatchNorm layers ({shown}{more}) but runs on the CPU; '
            "torch's SyncBatchNorm needs CUDA. Remove `sync_bn` from the "
            'config (per-rank BatchNorm statistics, rank 0\'s running '
            'statistics broadcast) or run on GPUs')
