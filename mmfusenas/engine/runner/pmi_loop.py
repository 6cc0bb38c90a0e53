"""Pretext meta-initialisation (PMI) of a fusion network, TIM Alg. 1 l. 6-13.

For every outer iteration and every fusion task :math:`i` (IVIF, MRI-CT,
...), the weights :math:`\\omega` are copied, adapted with ``K`` inner steps
on batches of that task (line 9), and the loss :math:`f` of the adapted
weights :math:`\\theta_i(\\omega)` is measured on a fresh batch of the same
task; the outer step (line 11) descends
:math:`\\nabla_\\omega \\sum_i f(\\theta_i(\\omega))`. ``order='second'``
differentiates through the K inner steps (MAML), ``order='first'`` drops
the Jacobian (first-order MAML). See ``docs/methods/pmi.md``.

The pure functions (:func:`meta_parameters`, :func:`inner_update`,
:func:`meta_gradient`) work on any MMEngine ``BaseModel`` with a ``'loss'``
mode; :class:`PMILoop` runs them as an MMEngine train loop.
"""
import io
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner.base_loop import BaseLoop
from mmengine.runner.checkpoint import weights_to_cpu
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch import Tensor
from torch.func import functional_call
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from mmfusenas.registry import LOOPS
from mmfusenas.utils.distributed import (average_gradients, average_value,
                                         broadcast_buffers_, check_finite,
                                         data_parallel, differentiable_average,
                                         get_rank_world, is_distributed,
                                         raise_on_any_rank, sum_grads_,
                                         unshard_sampler_)
from mmfusenas.utils.fileio import atomic_write

PMI_ORDERS = ('first', 'second')
INNER_OPTIMIZERS = ('adam', 'sgd')
#: how :class:`PMILoop` splits an outer step across the ranks
PMI_PARALLEL = ('episodes', 'tasks')
#: A batch as a dataloader yields it.
Batch = Union[dict, tuple, list]


def meta_parameters(model: torch.nn.Module) -> List[Tuple[str, Tensor]]:
    """The ``(name, parameter)`` pairs PMI meta-learns: every parameter with
    ``requires_grad`` (frozen ones keep their values)."""
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def task_loss(model: BaseModel, params: Dict[str, Tensor],
              data_batch: Batch) -> Tuple[Tensor, Dict[str, Tensor]]:
    """Loss of ``model`` with its parameters replaced by ``params``.

    The batch goes through ``model.data_preprocessor(batch, training=True)``
    and ``model(**data, mode='loss')`` (run with
    :func:`torch.func.functional_call`), then ``model.parse_losses``.

    Args:
        model (BaseModel): the model (its own tensors are not modified,
            except BN running statistics, which train-mode forwards update
            as in ordinary training).
        params (dict[str, Tensor]): replacement for some or all parameters.
        data_batch (dict | tuple | list): a batch from a dataloader.

    Returns:
        tuple[Tensor, dict]: the total loss and the log variables.
    """
    data = model.data_preprocessor(data_batch, True)
    if isinstance(data, dict):
        args, kwargs = (), dict(data, mode='loss')
    else:
        args, kwargs = tuple(data), dict(mode='loss')
    losses = functional_call(model, params, args, kwargs)
    return model.parse_losses(losses)


def _safe_sqrt(x: Tensor) -> Tensor:
    """``sqrt(x)`` whose derivative at 0 is 0 instead of ``inf * 0 = nan``.

    Adam's second moment is exactly 0 where a gradient is exactly 0; the
    true derivative of ``sqrt(g^2) = |g|`` there is a subgradient, 0 is used.
    """
    positive = x > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, x, 1.0)),
                       torch.zeros_like(x))


def inner_update(params: Sequence[Tensor],
                 grads: Sequence[Tensor],
                 state: Dict[str, List[Tensor]],
                 step: int,
                 optimizer: str = 'adam',
                 lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> List[Tensor]:
    r"""One functional (differentiable) inner optimiser step.

    * ``'sgd'``: :math:`\theta - \alpha g`;
    * ``'adam'``: :math:`m = \beta_1 m + (1-\beta_1) g`, :math:`v = \beta_2
      v + (1-\beta_2) g^2`, :math:`\theta - \alpha \hat m / (\sqrt{\hat v}
      + \epsilon)` with bias-corrected :math:`\hat m = m / (1-\beta_1^t)`,
      :math:`\hat v = v / (1-\beta_2^t)`: the update of
      :class:`torch.optim.Adam` (no weight decay), written out so that a
      graph can be kept through it.

    Args:
        params (Sequence[Tensor]): current weights :math:`\theta`.
        grads (Sequence[Tensor]): their gradients :math:`g`.
        state (dict[str, list[Tensor]]): Adam moments ``'m'`` and ``'v'``
            (replaced in place by the new ones); unused by SGD.
        step (int): 1-based step index :math:`t` (bias correction).
        optimizer (str): ``'adam'`` or ``'sgd'``. Defaults to 'adam'.
        lr (float): :math:`\alpha`. Defaults to 1e-3.
        betas (tuple[float, float]): Adam's :math:`\beta_1, \beta_2`.
            Defaults to (0.9, 0.999).
        eps (float): Adam's :math:`\epsilon`. Defaults to 1e-8.

    Returns:
        list[Tensor]: the new weights.
    """
    if optimizer == 'sgd':
        return [p - lr * g for p, g in zip(params, grads)]
    if optimizer != 'adam':
        raise ValueError(f'inner optimizer must be one of {INNER_OPTIMIZERS}'
                         f', got {optimizer!r}')
    b1, b2 = betas
    state['m'] = [b1 * m + (1 - b1) * g for m, g in zip(state['m'], grads)]
    state['v'] = [b2 * v + (1 - b2) * g * g for v, g in zip(state['v'], grads)]
    c1, c2 = 1 - b1**step, 1 - b2**step
    return [
        p - lr * (m / c1) / (_safe_sqrt(v / c2) + eps)
        for p, m, v in zip(params, state['m'], state['v'])
    ]


def meta_gradient(model: BaseModel,
                  support: Sequence[Batch],
                  query: Batch,
                  order: str = 'first',
                  inner_optimizer: str = 'adam',
                  inner_lr: float = 1e-3,
                  inner_betas: Tuple[float, float] = (0.9, 0.999),
                  inner_eps: float = 1e-8
                  ) -> Tuple[List[Tensor], List[float], float]:
    r"""Meta-gradient of one task, :math:`\nabla_\omega f(\theta_i(\omega))`.

    :math:`\theta^0 = \omega` (the model's current weights); one inner step
    per ``support`` batch, with a fresh optimiser state; then :math:`f` is
    the loss of :math:`\theta^K` on ``query``.

    Args:
        model (BaseModel): the model; its weights are :math:`\omega` and are
            not modified.
        support (Sequence): the K batches of the inner steps.
        query (dict | tuple | list): the batch :math:`f` is measured on.
        order (str): ``'second'``: exact gradient through the inner steps
            (``create_graph=True``); ``'first'``: :math:`\nabla_\theta
            f(\theta^K)`, the inner steps treated as constants. Defaults to
            'first'.
        inner_optimizer (str): ``'adam'`` or ``'sgd'``. Defaults to 'adam'.
        inner_lr (float): inner learning rate. Defaults to 1e-3.
        inner_betas (tuple[float, float]): Adam betas. Defaults to
            (0.9, 0.999).
        inner_eps (float): Adam epsilon. Defaults to 1e-8.

    Returns:
        tuple: the gradients (aligned with :func:`meta_parameters`), the K
        inner losses, and the query loss :math:`f(\theta^K)`.

    Distributed: inside :func:`~mmfusenas.utils.distributed.data_parallel`
    (the :class:`PMILoop` under a model wrapper) every rank holds a shard of
    each batch; the inner gradients are averaged over the ranks (for
    ``order='second'`` through a differentiable all-reduce, whose backward
    all-reduces the incoming gradients) and so is the meta-gradient: the
    result is that of one process with the whole batches. The returned
    losses are the means over the ranks. A loss that is not finite raises
    :class:`FloatingPointError` (on every rank).
    """
    if order not in PMI_ORDERS:
        raise ValueError(f'order must be one of {PMI_ORDERS}, got {order!r}')
    named = meta_parameters(model)
    if not named:
        raise ValueError(f'meta_gradient: {type(model).__name__} has no '
                         'parameter with requires_grad to meta-learn')
    names, omega = zip(*named)
    second = order == 'second'
    theta = list(omega) if second else [
        p.detach().clone().requires_grad_(True) for p in omega
    ]
    state = dict(
        m=[torch.zeros_like(p) for p in omega],
        v=[torch.zeros_like(p) for p in omega])
    inner_losses = []
    for step, batch in enumerate(support, start=1):
        loss, _ = task_loss(model, dict(zip(names, theta)), batch)
        check_finite(loss, f'meta_gradient: the inner loss of step {step}')
        grads = torch.autograd.grad(
            loss, theta, create_graph=second, allow_unused=True)
        if second:
            grads = differentiable_average([
                torch.zeros_like(p) if g is None else g
                for p, g in zip(theta, grads)
            ])
        else:
            grads = [
                torch.zeros_like(p) if g is None else g
                for p, g in zip(theta, average_gradients(grads, theta))
            ]
        with torch.set_grad_enabled(second):
            theta = inner_update(theta, grads, state, step, inner_optimizer,
                                 inner_lr, inner_betas, inner_eps)
        if not second:
            theta = [p.detach().requires_grad_(True) for p in theta]
        inner_losses.append(average_value(loss.item()))
    meta_loss, _ = task_loss(model, dict(zip(names, theta)), query)
    check_finite(meta_loss, 'meta_gradient: the query loss')
    wrt = list(omega) if second else theta
    grads = average_gradients(
        torch.autograd.grad(meta_loss, wrt, allow_unused=True), wrt)
    grads = [
        torch.zeros_like(p) if g is None else g.detach()
        for p, g in zip(omega, grads)
    ]
    return grads, inner_losses, average_value(meta_loss.item())


@LOOPS.register_module()
class PMILoop(BaseLoop):
    """Pretext meta-initialisation as an MMEngine train loop.

    Every iteration performs one outer step over all tasks (see the module
    docstring): per task, ``inner_steps`` support batches and one query
    batch are drawn from that task's dataloader, :func:`meta_gradient` is
    computed, and the sum over the tasks is applied by the runner's
    ``optim_wrapper`` (the outer optimiser: the paper's plain gradient step
    is ``SGD`` with lr 1e-4; clipping, schedulers, checkpoints and
    ``--resume`` work as for any MMEngine loop). At the end,
    :math:`\\theta_F^0` is written atomically to ``<work_dir>/<init_name>``
    as ``{'meta': {...}, 'state_dict': ...}``, which a training config
    loads with ``load_from``.

    Logged per iteration (``scalars.json`` / the logger):
    ``loss_inner_<task>`` (mean of the K inner losses),
    ``loss_meta_<task>`` (:math:`f(\\theta_i)` on the query batch) and
    ``loss`` (their sum over the tasks, the meta objective).

    No AMP, ``accumulative_counts=1``; the model is kept in train mode. A
    resumed run skips the batches already used, so a resumed run sees the
    same data as an uninterrupted one.

    **Distributed** (``--launcher pytorch``, model wrapped in
    :class:`~mmfusenas.engine.AlgorithmDistributedDataParallel`), two ways
    to split an outer step (``parallel``):

    * ``'episodes'`` (default): the episodes are data-parallel. Every task
      loader is sharded by its sampler, so each support / query batch of an
      episode is split across the ranks; the inner gradients and the
      meta-gradient are averaged over the ranks (see :func:`meta_gradient`),
      so every rank takes the same outer step, the one of a single process
      whose batches are the union of the ranks' (W ranks with batch b = one
      process with batch W·b). Every rank works on every task.
    * ``'tasks'``: the tasks are split across the ranks (task i on rank
      i mod W, with the task's whole, unsharded batches); each rank sums the
      meta-gradients of its tasks, the sums are all-reduced (summed) and the
      per-task losses gathered, so W ranks with batch b take the outer step
      of one process with batch b — up to W times faster per step when there
      are at least W tasks, no communication inside an episode (the inner
      steps and the second-order graph stay on one rank). A non-finite loss
      on one rank stops every rank after the tasks of the step.

    The buffers are broadcast from rank 0 after each outer step; rank 0
    writes the initialisation and the checkpoints.

    Args:
        runner (Runner): the runner.
        dataloader (DataLoader | dict): the config's ``train_dataloader``;
            used by the one task that gives no ``dataloader`` of its own
            (and left unbuilt when every task has one).
        tasks (Sequence[dict]): the fusion tasks, ``dict(name=str,
            dataloader=dict | DataLoader)``; ``name`` (a Python identifier,
            unique) labels the logs; a task without ``dataloader`` uses the
            config's ``train_dataloader`` (at most one task may do so).
        max_iters (int): number of outer iterations.
        inner_steps (int): K, inner steps per task. Defaults to 4 (the
            paper's best, Table 9).
        inner_lr (float): inner learning rate. Defaults to 1e-3.
        inner_optimizer (str): ``'adam'`` (paper) or ``'sgd'``. Defaults to
            'adam'.
        inner_betas (tuple[float, float]): inner Adam betas. Defaults to
            (0.9, 0.999).
        inner_eps (float): inner Adam epsilon. Defaults to 1e-8.
        order (str): ``'first'`` or ``'second'`` (see
            :func:`meta_gradient`). Defaults to 'first'.
        init_name (str): file name of the initialisation written into the
            work dir. Defaults to 'pmi_init.pth'.
        parallel (str): ``'episodes'`` or ``'tasks'``: how a distributed
            run splits the work (see above; no effect in one process).
            Defaults to 'episodes'.
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
        if parallel not in PMI_PARALLEL:
            raise ValueError(f'PMILoop: parallel must be one of '
                             f'{PMI_PARALLEL}, got {parallel!r}')
        if order not in PMI_ORDERS:
            raise ValueError(f'PMILoop: order must be one of {PMI_ORDERS}, '
                             f'got {order!r}')
        if inner_optimizer not in INNER_OPTIMIZERS:
            raise ValueError(f'PMILoop: inner_optimizer must be one of '
                             f'{INNER_OPTIMIZERS}, got {inner_optimizer!r}')
        if int(max_iters) != max_iters or max_iters < 1:
            raise ValueError(f'PMILoop: max_iters must be a positive integer,'
                             f' got {max_iters}')
        if int(inner_steps) != inner_steps or inner_steps < 1:
            raise ValueError(f'PMILoop: inner_steps must be a positive '
                             f'integer, got {inner_steps}')
        self.task_names: Tuple[str, ...] = self._check_tasks(tasks)
        diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
        self.task_loaders: List[DataLoader] = []
        for task in tasks:
            loader = task.get('dataloader', dataloader)
            if isinstance(loader, dict):
                loader = runner.build_dataloader(
                    loader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
            self.task_loaders.append(loader)
        self.parallel = parallel
        rank, world = get_rank_world()
        #: indices of the tasks this rank computes
        self.my_tasks = list(range(len(self.task_loaders)))
        if parallel == 'tasks' and world > 1:
            self.my_tasks = self.my_tasks[rank::world]
            # the owner of a task reads its whole stream
            for loader in self.task_loaders:
                unshard_sampler_(loader)
            if len(self.task_loaders) < world:
                idle = world - len(self.task_loaders)
                print_log(
                    f"PMILoop: parallel='tasks' with {len(self.task_loaders)}"
                    f' tasks on {world} ranks: {idle} rank(s) idle',
                    logger='current',
                    level=logging.WARNING)
        # the runner's bookkeeping (checkpoint meta, sampler seeding) reads
        # `train_loop.dataloader`: the first task's loader
        super().__init__(runner, self.task_loaders[0])
        self.task_iterators = [
            _InfiniteDataloaderIterator(loader) for loader in self.task_loaders
        ]
        self._max_iters = int(max_iters)
        self._max_epochs = 1
        self._epoch = 0
        self._iter = 0
        self.stop_training = False
        self.inner_steps = int(inner_steps)
        self.inner_lr = inner_lr
        self.inner_optimizer = inner_optimizer
        self.inner_betas = tuple(inner_betas)
        self.inner_eps = inner_eps
        self.order = order
        self.init_name = init_name
        if hasattr(self.dataloader.dataset, 'metainfo'):
            runner.visualizer.dataset_meta = self.dataloader.dataset.metainfo

    @staticmethod
    def _check_tasks(tasks: Sequence[dict]) -> Tuple[str, ...]:
        if isinstance(tasks, dict) or not tasks:
            raise ValueError('PMILoop: tasks must be a non-empty list of '
                             "dict(name=..., dataloader=...), got "
                             f'{tasks!r}')
        names = []
        for i, task in enumerate(tasks):
            if not isinstance(task, dict) or 'name' not in task:
                raise ValueError(f'PMILoop: tasks[{i}] must be a dict with a '
                                 f"'name' key, got {task!r}")
            extra = set(task) - {'name', 'dataloader'}
            if extra:
                raise ValueError(f'PMILoop: tasks[{i}] has unknown keys '
                                 f"{sorted(extra)}; expected 'name' and "
                                 "'dataloader'")
            name = task['name']
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f'PMILoop: task name {name!r} (tasks[{i}]) '
                                 'must be a Python identifier')
            names.append(name)
        if len(set(names)) != len(names):
            raise ValueError(f'PMILoop: task names must be unique, got '
                             f'{names}')
        shared = [t['name'] for t in tasks if 'dataloader' not in t]
        if len(shared) > 1:
            raise ValueError(
                f'PMILoop: tasks {shared} give no dataloader; only one task '
                "may use the config's train_dataloader")
        return tuple(names)

    @property
    def max_epochs(self) -> int:
        """int: always 1 (the run is one long epoch)."""
        return self._max_epochs

    @property
    def max_iters(self) -> int:
        """int: number of outer iterations."""
        return self._max_iters

    @property
    def epoch(self) -> int:
        """int: current epoch."""
        return self._epoch

    @property
    def iter(self) -> int:
        """int: current outer iteration."""
        return self._iter

    def _check_runner(self) -> Tuple[BaseModel, OptimWrapper]:
        model = self.runner.model
        self.distributed = is_model_wrapper(model)
        if self.distributed:
            # the loop drives the module itself (functional calls); the
            # wrapper only synchronised the initial state
            if not isinstance(model, DistributedDataParallel):
                raise TypeError(
                    'PMILoop: a distributed run needs a '
                    "DistributedDataParallel wrapper (model_wrapper_cfg=dict(type='mmfusenas."
                    "AlgorithmDistributedDataParallel')), got "
                    f'{type(model).__name__}')
            model = model.module
        optim_wrapper = self.runner.optim_wrapper
        if not isinstance(optim_wrapper, OptimWrapper) or isinstance(
                optim_wrapper, AmpOptimWrapper):
            raise TypeError(
                'PMILoop applies the meta-gradient with one plain '
                'OptimWrapper; got '
                f'{type(optim_wrapper).__name__} (AMP and several optimisers '
                'are not supported)')
        if optim_wrapper._accumulative_counts != 1:
            raise ValueError('PMILoop: optim_wrapper.accumulative_counts must '
                             'be 1 (every outer step already sums over the '
                             'tasks)')
        return model, optim_wrapper

    def run(self) -> torch.nn.Module:
        """Run the outer iterations and write the initialisation."""
        model, optim_wrapper = self._check_runner()
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            print_log(
                f'PMILoop: skipping the {self._iter * (self.inner_steps + 1)}'
                ' batches per task used before resuming',
                logger='current',
                level=logging.WARNING)
            for i in self.my_tasks:
                for _ in range(self._iter * (self.inner_steps + 1)):
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
            sum_grads_(total)
            gathered: List[Dict[int, Tuple[float, float]]] = [
                None
            ] * get_rank_world()[1]
            torch.distributed.all_gather_object(gathered, per_task)
            per_task = {k: v for part in gathered for k, v in part.items()}
        outputs: Dict[str, float] = {}
        meta_sum = 0.0
        for i, name in enumerate(self.task_names):
            inner, meta = per_task[i]
            outputs[f'loss_inner_{name}'] = inner
            outputs[f'loss_meta_{name}'] = meta
            meta_sum += meta
        outputs['loss'] = meta_sum
        for p, g in zip(params, total):
            p.grad = g
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=self._iter,
            data_batch=None,
            outputs=outputs)
        self._iter += 1

    def save_init(self, model: torch.nn.Module) -> Optional[str]:
        """Write :math:`\\theta_F^0` to ``<work_dir>/<init_name>`` atomically.

        Returns:
            str | None: the path (None on non-main ranks).
        """
        if not is_main_process():
            return None
        path = osp.join(self.runner.work_dir, self.init_name)
        meta = dict(
            pmi=dict(
                tasks=list(self.task_names),
                iter=self._iter,
                inner_steps=self.inner_steps,
                inner_lr=self.inner_lr,
                inner_optimizer=self.inner_optimizer,
                order=self.order),
            iter=self._iter,
            seed=self.runner.seed,
            experiment_name=self.runner.experiment_name)
        buffer = io.BytesIO()
        torch.save(
            dict(meta=meta, state_dict=weights_to_cpu(model.state_dict())),
            buffer)
        atomic_write(buffer.getvalue(), path)
        print_log(
            f'PMILoop: wrote the meta-initialisation to {path}',
            logger='current')
        return path
