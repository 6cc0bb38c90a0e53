"""Collectives on :mod:`mmengine.dist` shared by the search algorithms,
the PMI loop and the model wrapper; outside a distributed run each is the
local computation, so library code calls them unconditionally."""
import os
from contextlib import contextmanager
from typing import (Any, Callable, Dict, Iterable, Iterator, List,
                    Optional, Sequence, Tuple)
from unittest import mock

import torch
import torch.distributed as dist
from mmengine.dist import (all_gather_object, all_reduce, all_reduce_params,
                           broadcast, broadcast_object_list, get_dist_info,
                           get_world_size, init_dist)
from torch import Tensor
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors
from torch.distributed.nn.functional import all_reduce as _all_reduce_graph

_ACTIVE: List[bool] = []  # stack of data_parallel() contexts
_RANK_VARS = dict(pytorch='RANK', slurm='SLURM_PROCID',
                  mpi='OMPI_COMM_WORLD_RANK')


def launcher_rank(launcher: str = 'none') -> int:
    """This process's rank, also before the process group exists."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    var = _RANK_VARS.get(launcher)
    return int(os.environ.get(var, 0)) if var else 0


def init_cpu_distributed(launcher: str,
                         backend: str = 'gloo',
                         timeout: Optional[float] = None) -> Tuple[int, int]:
    """MMEngine's ``init_dist`` (``launcher``: ``'pytorch'``, ``'slurm'`` or
    ``'mpi'``) without its ``torch.cuda.set_device``, for CPU machines;
    ``timeout`` in seconds; returns ``(rank, world_size)``."""
    if launcher not in _RANK_VARS:
        raise ValueError(f'init_cpu_distributed: launcher must be one of '
                         f'{tuple(_RANK_VARS)}, got {launcher!r}')
    if backend == 'nccl':
        raise ValueError('init_cpu_distributed: NCCL needs CUDA; use '
                         "env_cfg.dist_cfg.backend='gloo' on CPU")
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT',
                           'LOCAL_RANK') if k not in os.environ]
    if launcher == 'pytorch' and missing:
        raise RuntimeError(
            f'--launcher pytorch: the environment lacks {missing}; start '
            'the tool with `python -m torch.distributed.run '
            '--nproc_per_node=N ...` (or torchrun)')
    kwargs = {} if timeout is None else dict(timeout=float(timeout))
    with mock.patch.object(torch.cuda, 'set_device'):
        init_dist(launcher, backend, **kwargs)
    return get_dist_info()


@contextmanager
def data_parallel(enabled: bool = True) -> Iterator[None]:
    """Within the block :func:`average_gradients` and friends average over
    the ranks (nested contexts stack; ``enabled=False``: per-rank work)."""
    _ACTIVE.append(bool(enabled))
    try:
        yield
    finally:
        _ACTIVE.pop()


def _averaging() -> bool:
    return bool(_ACTIVE) and _ACTIVE[-1] and get_world_size() > 1


def _presence(grads: Sequence[Optional[Tensor]]) -> List[bool]:
    """Which entries are not None on at least one rank (collective)."""
    mine = torch.tensor([g is not None for g in grads], dtype=torch.int32)
    all_reduce(mine)
    return [bool(v) for v in mine.tolist()]


def average_gradients(grads: Sequence[Optional[Tensor]],
                      like: Sequence[Tensor]) -> List[Optional[Tensor]]:
    """New tensors: ``grads`` averaged over the ranks inside
    :func:`data_parallel` (the identity elsewhere); an entry None on some
    ranks counts as zeros of ``like``'s shape there, None on every rank
    stays None."""
    if not _averaging():
        return list(grads)
    out = [(torch.zeros_like(p) if g is None else g.detach().clone())
           if used else None
           for g, p, used in zip(grads, like, _presence(grads))]
    all_reduce_params([g for g in out if g is not None], op='mean')
    return out


def differentiable_average(tensors: Sequence[Tensor]) -> List[Tensor]:
    """Average over the ranks with a graph through the all-reduce (for
    second-order meta-gradients); the identity outside
    :func:`data_parallel`."""
    if not _averaging():
        return list(tensors)
    world = get_world_size()
    return [_all_reduce_graph(t) / world for t in tensors]


def average_value(value: float) -> float:
    """The mean of a number over the ranks inside :func:`data_parallel`."""
    if not _averaging():
        return value
    t = torch.tensor([float(value)], dtype=torch.float64)
    all_reduce(t, op='mean')
    return t.item()


def average_grads_(params: Iterable[Tensor]) -> None:
    """Average the ``.grad`` of ``params`` over the ranks, in place (None
    on some ranks counts as zeros there; None on every rank stays)."""
    if get_world_size() == 1:
        return
    params = [p for p in params if p.requires_grad]
    grads = []
    for p, used in zip(params, _presence([p.grad for p in params])):
        if used:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            grads.append(p.grad)
    all_reduce_params(grads, op='mean')


@contextmanager
def averaged_optimizer_steps(optim_wrappers: Sequence[Any]) -> Iterator[None]:
    """Within the block each optim wrapper's ``step()`` first averages its
    parameters' gradients over the ranks (clipping sees the global
    gradient); the instances' ``step`` is restored on exit."""
    patched = []  # (wrapper, its previous instance attribute or None)
    try:
        for ow in optim_wrappers:
            previous = vars(ow).get('step')
            if getattr(previous, '_averages_grads', False):
                raise RuntimeError(
                    f'averaged_optimizer_steps: {type(ow).__name__}.step '
                    'already averages gradients (nested contexts)')
            optimizer = getattr(ow, 'optimizer', ow)
            params = list({id(p): p for group in optimizer.param_groups
                           for p in group['params']}.values())

            def step(*args, _params=params, _original=ow.step, **kwargs):
                average_grads_(_params)
                return _original(*args, **kwargs)

            step._averages_grads = True
            ow.step = step
            patched.append((ow, previous))
        yield
    finally:
        for ow, previous in patched:
            if previous is None:
                del ow.step
            else:
                ow.step = previous


def raise_on_any_rank(message: Optional[str],
                      error: type = FloatingPointError) -> None:
    """Raise ``error`` if some rank has a ``message`` (None when fine):
    inside :func:`data_parallel` on every rank, naming the failing ranks,
    instead of the healthy ones waiting in the next collective."""
    if not _averaging():
        if message is not None:
            raise error(message)
        return
    rank, world = get_dist_info()
    flags = torch.zeros(world, dtype=torch.int32)
    flags[rank] = int(message is not None)
    all_reduce(flags)
    bad = [r for r, f in enumerate(flags.tolist()) if f]
    if bad:
        messages = all_gather_object(message)  # collective: every rank
        shown = message if message is not None else messages[bad[0]]
        raise error(f'{shown} [rank(s) {bad} of {world} failed; every rank '
                    'stops]')


def check_finite(value: Any, what: str, hint: str = '') -> None:
    """:func:`raise_on_any_rank` a :class:`FloatingPointError` naming
    ``what`` (then ``hint``) if ``value`` (tensor or number) is not finite."""
    t = value.detach() if isinstance(value, Tensor) else torch.tensor(
        float(value))
    message = None
    if not bool(torch.isfinite(t).all()):
        shown = value
        if isinstance(value, Tensor):
            shown = t.item() if t.numel() == 1 else t.flatten()[:4].tolist()
        message = f'{what} is not finite: {shown}{hint}'
    raise_on_any_rank(message)


def check_finite_losses(losses: Dict[str, torch.Tensor],
                        data_samples: Optional[Sequence] = None) -> None:
    """:func:`raise_on_any_rank` naming the first non-finite loss and the
    stems of ``data_samples``."""
    error = None
    for name, value in losses.items():
        if not torch.isfinite(value).all():
            stems = [s.get('stem') for s in data_samples or []]
            error = (f'{name} is {value.item()} on samples {stems}; check '
                     'the inputs and the learning rate')
            break
    raise_on_any_rank(error)


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` of rank ``src`` on every rank (picklable objects)."""
    box = [obj]
    broadcast_object_list(box, src=src)
    return box[0]


def broadcast_buffers_(tensors: Sequence[Tensor], src: int = 0) -> None:
    """Copy rank ``src``'s values of ``tensors`` (e.g. BN statistics) to
    every rank, one flat buffer per dtype."""
    if get_world_size() == 1:
        return
    by_dtype: Dict[torch.dtype, List[Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    with torch.no_grad():
        for group in by_dtype.values():
            flat = _flatten_dense_tensors(group)
            broadcast(flat, src)
            for t, value in zip(group, _unflatten_dense_tensors(flat,
                                                                group)):
                t.copy_(value)


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """``[fn(x) for x in items]`` on every rank, rank r computing items
    r, r + W, ... (``fn`` runs no collectives); an exception on one rank is
    raised on every rank, naming the failing ranks."""
    items = list(items)
    rank, world = get_dist_info()
    if world == 1:
        return [fn(x) for x in items]
    mine, failure, error = [], None, None
    with data_parallel(False):
        try:
            for i in range(rank, len(items), world):
                mine.append((i, fn(items[i])))
        except Exception as err:  # re-raised below, on every rank
            error, failure = err, (type(err).__name__, str(err))
    gathered = all_gather_object((mine, failure))
    bad = [r for r, (_, f) in enumerate(gathered) if f is not None]
    if bad:
        name, message = failure or gathered[bad[0]][1]
        text = (f'parallel_map: {name}: {message} [rank(s) {bad} of '
                f'{world} failed; every rank stops]')
        if error is not None:
            try:
                annotated = type(error)(text)
            except Exception:  # an exception class with other arguments
                raise error
            raise annotated from error
        raise {cls.__name__: cls for cls in (FloatingPointError, ValueError,
                                             KeyError, TypeError)
               }.get(name, RuntimeError)(text)
    results: List[Any] = [None] * len(items)
    for part, _ in gathered:
        for i, value in part:
            results[i] = value
    return results


def rank_seed(seed: int, iteration: int) -> int:
    """``(seed + iteration) · W + rank`` mod 2^31: distinct per rank and
    iteration, ``seed + iteration`` with one rank."""
    rank, world = get_dist_info()
    return ((int(seed) + int(iteration)) * world + rank) % 2**31


def unshard_sampler_(loader) -> Any:
    """Make ``loader``'s sampler (``DefaultSampler`` / ``InfiniteSampler``;
    another sharding one raises TypeError) yield the whole dataset on this
    rank, for a rank working alone; in place, returns ``loader``."""
    from mmengine.dataset import DefaultSampler, InfiniteSampler
    sampler = getattr(loader, 'sampler', None)
    if isinstance(sampler, DefaultSampler):
        sampler.rank, sampler.world_size = 0, 1
        sampler.num_samples = sampler.total_size = len(sampler.dataset)
    elif isinstance(sampler, InfiniteSampler):
        sampler.rank, sampler.world_size = 0, 1
        sampler.indices = sampler._indices_of_rank()
    elif getattr(sampler, 'world_size', 1) != 1:
        raise TypeError(
            f'unshard_sampler_: {type(sampler).__name__} shards the data '
            'across ranks and is not DefaultSampler / InfiniteSampler; use '
            'one of those for this loader')
    return loader
