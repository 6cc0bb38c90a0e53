"""Pretext meta-initialisation (PMI) of a fusion network, TIM Alg. 1 l. 6-13:
per outer iteration and task, K differentiable inner steps adapt ω, and the
outer step descends ∇_ω Σ_i f(θ_i(ω)) (``docs/methods/pmi.md``)."""
import logging
import os.path as osp
from typing import Dict, Iterator, Sequence, Tuple, Union

import torch
from mmengine.dist import (all_gather_object, all_reduce_params,
                           get_dist_info, is_distributed, is_main_process)
from mmengine.logging import print_log
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from mmfusenas.registry import LOOPS
from mmfusenas.search.strategies.meta_learning import (INNER_OPTIMIZERS,
                                                       PMI_ORDERS,
                                                       meta_gradient,
                                                       meta_parameters)
from mmfusenas.utils.distributed import (broadcast_buffers_, data_parallel,
                                         raise_on_any_rank, unshard_sampler_,
                                         unwrap)
from .bilevel_loops import build_loader

PMI_PARALLEL = ('episodes', 'tasks')


def _check_tasks(tasks: Sequence[dict]) -> Tuple[str, ...]:
    """The task names; ValueError naming what is wrong with ``tasks``."""
    if isinstance(tasks, dict) or not tasks:
        raise ValueError('PMILoop: tasks must be a non-empty list of '
                         f'dict(name=..., dataloader=...), got {tasks!r}')
    for i, task in enumerate(tasks):
        extra = sorted(set(task) - {'name', 'dataloader'})
        if extra or 'name' not in task:
            raise ValueError(f'PMILoop: tasks[{i}] has unknown keys {extra} '
                             "or no 'name'; expected 'name' and 'dataloader'")
        if not str(task['name']).isidentifier():
            raise ValueError(f"PMILoop: task name {task['name']!r} "
                             f'(tasks[{i}]) must be a Python identifier')
    names = tuple(task['name'] for task in tasks)
    shared = [t['name'] for t in tasks if 'dataloader' not in t]
    if len(set(names)) != len(names):
        raise ValueError(
            f'PMILoop: task names must be unique, got {list(names)}')
    if len(shared) > 1:
        raise ValueError(f'PMILoop: tasks {shared} give no dataloader; only '
                         "one task may use the config's train_dataloader")
    return names


def infinite_batches(loader) -> Iterator:
    """The batches of ``loader`` epoch after epoch, setting the sampler's
    epoch as MMEngine's iteration-based loop does."""
    epoch = 0
    while True:
        if hasattr(loader.sampler, 'set_epoch'):
            loader.sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


@LOOPS.register_module()
class PMILoop(IterBasedTrainLoop):
    """Pretext meta-initialisation as a train loop (``docs/methods/pmi.md``).

    Every iteration is one outer step: per task of ``tasks``
    (``dict(name=identifier, dataloader=...)``), ``inner_steps`` support
    batches and one query batch give a :func:`meta_gradient`; the runner's
    plain ``optim_wrapper`` applies their sum. The result is written to
    ``<work_dir>/<init_name>``. Distributed, ``parallel='episodes'`` shards
    every batch; ``'tasks'`` gives task i to rank i mod W.
    """
    # --max-iters sets max_iters; no other field counts iterations
    iteration_fields: dict = {}

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 tasks: Sequence[dict],
                 max_iters: int,
                 inner_steps: int = 4,
                 inner_lr: float = 1e-3,
                 inner_optimizer: str = 'adam',
                 inner_betas: Tuple[float, float] = (0.9, 0.999),
                 inner_eps: float = 1e-8,
                 order: str = 'first',
                 init_name: str = 'pmi_init.pth',
                 parallel: str = 'episodes') -> None:
        for name, value, options in (
                ('parallel', parallel, PMI_PARALLEL),
                ('order', order, PMI_ORDERS),
                ('inner_optimizer', inner_optimizer, INNER_OPTIMIZERS)):
            if value not in options:
                raise ValueError(f'PMILoop: {name} must be one of {options}, '
                                 f'got {value!r}')
        if min(max_iters, inner_steps) < 1:
            raise ValueError('PMILoop: max_iters and inner_steps must be '
                             f'positive, got {max_iters}, {inner_steps}')
        self.task_names = _check_tasks(tasks)
        loaders = [build_loader(runner, task.get('dataloader', dataloader),
                                f"dataloader of task {task['name']!r}")
                   for task in tasks]
        self.parallel = parallel
        rank, world = get_dist_info()
        #: indices of the tasks this rank computes
        self.my_tasks = list(range(len(loaders)))
        if parallel == 'tasks' and world > 1:
            self.my_tasks = self.my_tasks[rank::world]
            for loader in loaders:  # the owner of a task reads all of it
                unshard_sampler_(loader)
            if len(loaders) < world:
                print_log(
                    f"PMILoop: parallel='tasks' with {len(loaders)} tasks on "
                    f'{world} ranks: {world - len(loaders)} rank(s) idle',
                    logger='current', level=logging.WARNING)
        # the runner's bookkeeping (checkpoint meta, sampler seeding) reads
        # `train_loop.dataloader`: the first task's loader
        super().__init__(runner, loaders[0], max_iters)
        self.task_iterators = [self.dataloader_iterator] + [
            infinite_batches(loader) for loader in loaders[1:]]
        self.inner_steps, self.inner_lr = int(inner_steps), inner_lr
        self.inner_optimizer, self.order = inner_optimizer, order
        self.inner_betas, self.inner_eps = tuple(inner_betas), inner_eps
        self.init_name = init_name

    def _check_runner(self) -> Tuple[BaseModel, OptimWrapper]:
        model, optim_wrapper = self.runner.model, self.runner.optim_wrapper
        # the loop drives the module itself; the wrapper synchronised it
        self.distributed = is_model_wrapper(model)
        if self.distributed and not isinstance(model,
                                               DistributedDataParallel):
            raise TypeError(
                "PMILoop: a distributed run needs model_wrapper_cfg=dict(type="
                f"'mmfusenas.AlgorithmDistributedDataParallel'), got "
                f'{type(model).__name__}')
        # the loop steps the optimizer itself, once per outer iteration
        counts = self.runner.cfg.get('optim_wrapper', {}).get(
            'accumulative_counts', 1)
        if not isinstance(optim_wrapper, OptimWrapper) or isinstance(
                optim_wrapper, AmpOptimWrapper) or counts != 1:
            raise TypeError(
                'PMILoop needs one plain OptimWrapper with '
                'accumulative_counts=1 (no AMP, no several optimisers), got '
                f'{type(optim_wrapper).__name__}')
        return unwrap(model), optim_wrapper

    def run(self) -> torch.nn.Module:
        """Run the outer iterations and write the initialisation."""
        model, optim_wrapper = self._check_runner()
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        skip = self._iter * (self.inner_steps + 1)
        if skip:
            print_log(f'Advance the dataloaders by {skip} batches per task to '
                      'skip data already used', logger='current',
                      level=logging.WARNING)
        for i in self.my_tasks:
            for _ in range(skip):
                next(self.task_iterators[i])
        while self._iter < self._max_iters and not self.stop_training:
            model.train()
            with data_parallel(self.distributed):
                self.run_iter(model, optim_wrapper)
            if self.distributed:
                broadcast_buffers_(list(model.buffers()))
        self.save_init(model)
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return model

    def run_iter(self, model: BaseModel, optim_wrapper: OptimWrapper) -> None:
        """One outer step: meta-gradients of all tasks, summed, applied."""
        self.runner.call_hook(
            'before_train_iter', batch_idx=self._iter, data_batch=None)
        params = [p for _, p in meta_parameters(model)]
        total = [torch.zeros_like(p) for p in params]
        split = self.parallel == 'tasks' and is_distributed()
        per_task: Dict[int, Tuple[float, float]] = {}
        failure = None
        # tasks split: each rank alone on its tasks (no collective inside)
        with data_parallel(not split):
            for i in self.my_tasks:
                iterator = self.task_iterators[i]
                support = [next(iterator) for _ in range(self.inner_steps)]
                query = next(iterator)
                try:
                    grads, inner, meta = meta_gradient(
                        model, support, query, self.order,
                        self.inner_optimizer, self.inner_lr,
                        self.inner_betas, self.inner_eps)
                except FloatingPointError as err:
                    if not split:
                        raise
                    failure = f'task {self.task_names[i]!r}: {err}'
                    break
                for acc, g in zip(total, grads):
                    acc.add_(g)
                per_task[i] = (sum(inner) / len(inner), meta)
        if split:
            raise_on_any_rank(failure)  # collective (data_parallel of run)
            all_reduce_params(total)
            per_task = {k: v for part in all_gather_object(per_task)
                        for k, v in part.items()}
        outputs = {f'loss_{kind}_{name}': per_task[i][j]
                   for i, name in enumerate(self.task_names)
                   for j, kind in enumerate(('inner', 'meta'))}
        outputs['loss'] = sum(per_task[i][1]
                              for i in range(len(self.task_names)))
        for p, g in zip(params, total):
            p.grad = g
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        self.runner.call_hook(
            'after_train_iter', batch_idx=self._iter, data_batch=None,
            outputs=outputs)
        self._iter += 1

    def save_init(self, model: torch.nn.Module) -> None:
        """Write the initialisation atomically (on rank 0)."""
        if not is_main_process():
            return
        path = osp.join(self.runner.work_dir, self.init_name)
        pmi = dict(tasks=list(self.task_names), iter=self._iter, **{
            k: getattr(self, k)
            for k in ('inner_steps', 'inner_lr', 'inner_optimizer', 'order')})
        meta = dict(pmi=pmi, iter=self._iter, seed=self.runner.seed,
                    experiment_name=self.runner.experiment_name)
        save_checkpoint(
            dict(meta=meta, state_dict=weights_to_cpu(model.state_dict())),
            path, backend_args=dict(backend='atomic_local'))
        print_log(f'PMILoop: wrote the meta-initialisation to {path}',
                  logger='current')
