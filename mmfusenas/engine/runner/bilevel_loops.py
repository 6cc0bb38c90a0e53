"""Training loops of a bilevel search: a weight and an architecture loader.

Each iteration draws a batch of the weight split and, when the algorithm
will update α in this step, one of the architecture split, and calls
``model.train_step(dict(train=..., val=...), optim_wrapper)``.
"""
import logging
from typing import List, Sequence, Union

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.utils import set_random_seed
from torch.utils.data import DataLoader

from mmfusenas.registry import LOOPS
from mmfusenas.search.strategies.path_samplers import Cycle as _Cycle
from mmfusenas.search.strategies.path_samplers import unwrap
from mmfusenas.utils.distributed import rank_seed

LoaderCfg = Union[DataLoader, dict]

#: runtime-info key of the message hub (saved in checkpoints): the number of
#: architecture batches drawn so far
ARCH_BATCHES_KEY = 'bilevel_arch_batches'


def build_loader(runner, loader: LoaderCfg, what: str) -> DataLoader:
    """``loader`` built as MMEngine's loops build theirs; empty: an error."""
    if isinstance(loader, dict):
        loader = runner.build_dataloader(
            loader, seed=runner.seed,
            diff_rank_seed=runner._randomness_cfg.get('diff_rank_seed', False))
    if len(loader) == 0:
        raise ValueError(
            f'the {what} is empty (0 batches); check its dataset (split '
            'file, data_root) and batch size / drop_last')
    return loader


def _set_sampler_epoch(loader: DataLoader, epoch: int) -> None:
    """``sampler.set_epoch(epoch)`` where the loader's sampler has it."""
    sampler = getattr(loader, 'sampler', None)
    if not hasattr(sampler, 'set_epoch'):
        sampler = getattr(
            getattr(loader, 'batch_sampler', None), 'sampler', None)
    if hasattr(sampler, 'set_epoch'):
        sampler.set_epoch(epoch)


def _check_model(loop, model) -> None:
    """Reject MMEngine's DDP wrapper (it bypasses the algorithm's step)."""
    if isinstance(model, MMDistributedDataParallel) and \
            type(model).train_step is MMDistributedDataParallel.train_step:
        raise TypeError(
            f'{type(loop).__name__}: MMDistributedDataParallel does not '
            "call the search algorithm's train_step; set "
            "model_wrapper_cfg=dict(type='mmfusenas."
            "AlgorithmDistributedDataParallel') (the default of "
            'configs/_base_/default_runtime.py and tools/train.py); see '
            'docs/user_guides/distributed.md')


class _BilevelLoopMixin:
    """What the epoch- and the iteration-based bilevel loops share."""

    def _arch_step_due(self) -> bool:
        """Whether the model updates α in its next train step."""
        return bool(getattr(unwrap(self.runner.model), 'arch_step_due', True))

    def _bilevel_iter(self, batch_idx: int, train_batch,
                      arch_batches: _Cycle) -> None:
        """Draw the architecture batch if needed and run one train step."""
        data_batch = dict(train=train_batch)

        def draw_arch_batch() -> None:
            data_batch['val'] = next(arch_batches)
            hub = self.runner.message_hub
            hub.update_info(ARCH_BATCHES_KEY,
                            hub.get_info(ARCH_BATCHES_KEY, 0) + 1)

        if self._arch_step_due():
            draw_arch_batch()
        self.runner.call_hook(
            'before_train_iter', batch_idx=batch_idx, data_batch=data_batch)
        # a hook may have switched the α steps on for this iteration (an
        # iteration-based ArchScheduleHook ending a weights-only warm-up)
        if 'val' not in data_batch and self._arch_step_due():
            draw_arch_batch()
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=batch_idx,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1


@LOOPS.register_module()
class BilevelEpochBasedTrainLoop(_BilevelLoopMixin, EpochBasedTrainLoop):
    """Epoch-based bilevel search loop, optionally alternating tasks.

    Every iteration draws a weight batch and, when the model's
    ``arch_step_due`` (default True) says so, an architecture batch (the
    architecture loader restarts each epoch and cycles), then calls
    ``model.train_step(dict(train=..., val=...), optim_wrapper)``.
    ``dataloader`` and ``arch_dataloader`` may be lists of K loaders: epoch
    e uses pair ``e % K`` (TIM alternates tasks per epoch). Samplers get
    ``set_epoch(e)`` and the global generators are seeded with
    ``rank_seed(seed, iteration)`` before each iteration, so a resumed
    search continues bit for bit.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict | list): Weight-split loader(s); given
            by the runner from ``train_dataloader``.
        arch_dataloader (DataLoader | dict | list): Architecture-split
            loader(s), as many as ``dataloader``.
        max_epochs (int): Number of epochs.
        val_begin (int): First epoch that runs the validation loop.
            Defaults to 1.
        val_interval (int): Validate every this many epochs. Defaults to 1.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[LoaderCfg, Sequence[LoaderCfg]],
                 arch_dataloader: Union[LoaderCfg, Sequence[LoaderCfg]],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1) -> None:
        weight_cfgs, arch_cfgs = [
            list(x) if isinstance(x, (list, tuple)) else [x]
            for x in (dataloader, arch_dataloader)]
        if len(weight_cfgs) != len(arch_cfgs) or not weight_cfgs:
            raise ValueError(
                f'{type(self).__name__}: dataloader and arch_dataloader must '
                'be one loader each or lists of the same (non-zero) length '
                f'(one pair per alternating task), got {len(weight_cfgs)} '
                f'and {len(arch_cfgs)}')
        _check_model(self, runner.model)
        self.dataloaders: List[DataLoader] = [
            build_loader(runner, cfg, f'weight dataloader {i}')
            for i, cfg in enumerate(weight_cfgs)
        ]
        self.arch_dataloaders: List[DataLoader] = [
            build_loader(runner, cfg, f'arch_dataloader {i}')
            for i, cfg in enumerate(arch_cfgs)
        ]
        super().__init__(runner, self.dataloaders[0], max_epochs, val_begin,
                         val_interval)
        self._max_iters = sum(
            len(self.dataloaders[e % len(self.dataloaders)])
            for e in range(self._max_epochs))

    def run_epoch(self) -> None:
        """Iterate one epoch over pair ``epoch % K``."""
        pair = self._epoch % len(self.dataloaders)
        self.dataloader = self.dataloaders[pair]
        arch_loader = self.arch_dataloaders[pair]
        for loader in (self.dataloader, arch_loader):
            _set_sampler_epoch(loader, self._epoch)
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        arch_batches = _Cycle(arch_loader)
        # creating the iterator draws from torch's generator (the loader's
        # base seed): make that a function of the iteration too
        set_random_seed(rank_seed(self.runner.seed, self._iter))
        batches = iter(self.dataloader)
        for idx in range(len(self.dataloader)):
            set_random_seed(rank_seed(self.runner.seed, self._iter))
            self._bilevel_iter(idx, next(batches), arch_batches)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


@LOOPS.register_module()
class BilevelIterBasedTrainLoop(_BilevelLoopMixin, IterBasedTrainLoop):
    """Iteration-based bilevel search loop (one weight / arch loader pair).

    Like :class:`BilevelEpochBasedTrainLoop` for ``max_iters`` iterations
    over endless loaders; a resumed run skips the weight and architecture
    batches already used (their count is kept in the message hub).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Weight-split loader.
        arch_dataloader (DataLoader | dict): Architecture-split loader.
        max_iters (int): Number of iterations.
        val_begin (int): First iteration that may validate. Defaults to 1.
        val_interval (int): Validate every this many iterations. Defaults
            to 1000.
    """

    def __init__(self,
                 runner,
                 dataloader: LoaderCfg,
                 arch_dataloader: LoaderCfg,
                 max_iters: int,
                 val_begin: int = 1,
                 val_interval: int = 1000) -> None:
        _check_model(self, runner.model)
        super().__init__(runner,
                         build_loader(runner, dataloader, 'weight dataloader'),
                         max_iters, val_begin, val_interval)
        self.arch_dataloader = build_loader(runner, arch_dataloader,
                                            'arch_dataloader')

    def run(self) -> nn.Module:
        """Launch the search; returns the model."""
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        arch_batches = _Cycle(self.arch_dataloader)
        if self._iter > 0:
            drawn = self.runner.message_hub.get_info(ARCH_BATCHES_KEY, 0)
            print_log(
                f'Advance the dataloaders by {self._iter} weight and '
                f'{drawn} architecture batches to skip data already used',
                logger='current',
                level=logging.WARNING)
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            for _ in range(drawn):
                next(arch_batches)
        else:
            # a fresh run counts from 0 (the hub may be an earlier run's)
            self.runner.message_hub.update_info(ARCH_BATCHES_KEY, 0)
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            set_random_seed(rank_seed(self.runner.seed, self._iter))
            self._bilevel_iter(self._iter, next(self.dataloader_iterator),
                               arch_batches)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

