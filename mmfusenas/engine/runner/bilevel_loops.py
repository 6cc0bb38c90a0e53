"""Bilevel search loops: each step gets a weight batch and, when α is due,
an architecture batch (``model.train_step(dict(train=..., val=...))``)."""
from typing import Iterator, List, Sequence, Union

import torch.nn as nn
from mmengine.model import MMDistributedDataParallel
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.utils import set_random_seed
from torch.utils.data import DataLoader

from mmfusenas.registry import LOOPS
from mmfusenas.search.strategies.path_samplers import Cycle
from mmfusenas.utils.distributed import rank_seed, unwrap

LoaderCfg = Union[DataLoader, dict]
#: message-hub key (saved in checkpoints): architecture batches drawn so far
ARCH_BATCHES_KEY = 'bilevel_arch_batches'


def build_loader(runner, loader: LoaderCfg, what: str) -> DataLoader:
    """``loader`` built as MMEngine's loops build theirs; empty: an error."""
    if isinstance(loader, dict):
        loader = runner.build_dataloader(
            loader, seed=runner.seed,
            diff_rank_seed=(runner.cfg.get('randomness') or {}).get(
                'diff_rank_seed', False))
    if len(loader) == 0:
        raise ValueError(
            f'the {what} is empty (0 batches); check its dataset (split '
            'file, data_root) and batch size / drop_last')
    return loader


def _check_model(loop, model) -> None:
    """Reject MMEngine's DDP wrapper (it bypasses the algorithm's step)."""
    if isinstance(model, MMDistributedDataParallel) and \
            type(model).train_step is MMDistributedDataParallel.train_step:
        raise TypeError(
            f'{type(loop).__name__}: MMDistributedDataParallel does not '
            "call the search algorithm's train_step; set "
            "model_wrapper_cfg=dict(type='mmfusenas."
            "AlgorithmDistributedDataParallel') (docs/user_guides/"
            'distributed.md)')


class _BilevelLoopMixin:
    """The reseeded draw and the step both bilevel loops share."""

    def _reseed(self) -> None:
        """Seed the global generators with ``rank_seed(seed, iter)`` (a
        resumed search draws what an uninterrupted one does)."""
        set_random_seed(rank_seed(self.runner.seed, self._iter))

    def _bilevel_iter(self, batch_idx: int, train_batch,
                      arch_batches: Cycle) -> None:
        """Draw the architecture batch if α is due and run one step."""
        data_batch, hub = dict(train=train_batch), self.runner.message_hub

        def draw_if_due() -> None:
            if 'val' not in data_batch and getattr(
                    unwrap(self.runner.model), 'arch_step_due', True):
                data_batch['val'] = next(arch_batches)
                hub.update_info(ARCH_BATCHES_KEY,
                                hub.get_info(ARCH_BATCHES_KEY, 0) + 1)

        draw_if_due()
        self.runner.call_hook(
            'before_train_iter', batch_idx=batch_idx, data_batch=data_batch)
        # a hook may have switched α on for this iteration (an
        # iteration-based ArchScheduleHook ending a weights-only warm-up)
        draw_if_due()
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self.runner.call_hook(
            'after_train_iter', batch_idx=batch_idx, data_batch=data_batch,
            outputs=outputs)
        self._iter += 1


@LOOPS.register_module()
class BilevelEpochBasedTrainLoop(_BilevelLoopMixin, EpochBasedTrainLoop):
    """Epoch-based bilevel search loop, optionally alternating tasks.

    α batches cycle the architecture loader and are drawn only when the
    model's ``arch_step_due`` (default True) says so. ``dataloader`` and
    ``arch_dataloader`` may be lists of K loaders: epoch e uses pair
    ``e % K`` (TIM alternates tasks per epoch).
    """

    def __init__(self,
                 runner,
                 dataloader: Union[LoaderCfg, Sequence[LoaderCfg]],
                 arch_dataloader: Union[LoaderCfg, Sequence[LoaderCfg]],
                 max_epochs: int,
                 **kwargs) -> None:
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
            for i, cfg in enumerate(weight_cfgs)]
        self.arch_dataloaders: List[DataLoader] = [
            build_loader(runner, cfg, f'arch_dataloader {i}')
            for i, cfg in enumerate(arch_cfgs)]
        super().__init__(runner, self.dataloaders[0], max_epochs, **kwargs)
        self._max_iters = sum(
            len(self.dataloaders[e % len(self.dataloaders)])
            for e in range(self._max_epochs))

    def run_epoch(self) -> None:
        """Iterate one epoch over pair ``epoch % K``."""
        pair = self._epoch % len(self.dataloaders)
        self.dataloader = self.dataloaders[pair]
        arch_loader = self.arch_dataloaders[pair]
        for loader in (self.dataloader, arch_loader):
            for sampler in (getattr(loader, 'sampler', None), getattr(
                    getattr(loader, 'batch_sampler', None), 'sampler', None)):
                if hasattr(sampler, 'set_epoch'):
                    sampler.set_epoch(self._epoch)
                    break
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        arch_batches = Cycle(arch_loader)
        self._reseed()  # creating the iterator draws the loader's base seed
        batches = iter(self.dataloader)
        for idx in range(len(self.dataloader)):
            self._reseed()
            self._bilevel_iter(idx, next(batches), arch_batches)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


@LOOPS.register_module()
class BilevelIterBasedTrainLoop(_BilevelLoopMixin, IterBasedTrainLoop):
    """Iteration-based bilevel search loop over one weight / arch loader
    pair; a resumed run skips the weight and α batches already used."""

    def __init__(self,
                 runner,
                 dataloader: LoaderCfg,
                 arch_dataloader: LoaderCfg,
                 max_iters: int,
                 **kwargs) -> None:
        _check_model(self, runner.model)
        super().__init__(runner,
                         build_loader(runner, dataloader, 'weight dataloader'),
                         max_iters, **kwargs)
        self.arch_dataloader = build_loader(runner, arch_dataloader,
                                            'arch_dataloader')
        self.dataloader_iterator = self._reseeded(self.dataloader_iterator)

    def _reseeded(self, batches: Iterator) -> Iterator:
        """``batches``, each drawn after :meth:`_reseed` for its iteration."""
        while True:
            self._reseed()
            yield next(batches)

    def run(self) -> nn.Module:
        """MMEngine's loop; a resumed run first skips the α batches drawn."""
        hub = self.runner.message_hub
        # a fresh run counts from 0 (the hub may be an earlier run's)
        drawn = hub.get_info(ARCH_BATCHES_KEY, 0) if self._iter else 0
        hub.update_info(ARCH_BATCHES_KEY, drawn)
        self.arch_batches = Cycle(self.arch_dataloader, skip=drawn)
        return super().run()

    def run_iter(self, data_batch) -> None:
        """One bilevel step on ``data_batch``."""
        self._bilevel_iter(self._iter, data_batch, self.arch_batches)
