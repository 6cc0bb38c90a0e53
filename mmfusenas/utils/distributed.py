"""Collectives for the search algorithms, the PMI loop and the model wrapper;
outside a distributed run each is the local computation."""
import builtins
import datetime
import os
import subprocess
from contextlib import ExitStack, contextmanager
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Union)

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.dist import (all_gather, all_gather_object, all_reduce,
                           all_reduce_params, broadcast,
                           broadcast_object_list, get_dist_info,
                           get_world_size)
from mmengine.model import is_model_wrapper
from torch import Tensor
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors
from torch.distributed.nn.functional import all_reduce as _all_reduce_graph

_ACTIVE: List[bool] = []  # stack of data_parallel() contexts
_RANK_VARS = dict(pytorch='RANK', slurm='SLURM_PROCID',
                  mpi='OMPI_COMM_WORLD_RANK')


def unwrap(model):
    """The model a wrapper (e.g. DDP) holds, else ``model`` itself."""
    return model.module if is_model_wrapper(model) else model


def launcher_rank(launcher: str = 'none') -> int:
    """This process's rank, also before the process group exists."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    var = _RANK_VARS.get(launcher)
    return int(os.environ.get(var, 0)) if var else 0


def _launcher_env(launcher: str) -> Dict[str, str]:
    """The ``RANK`` / ``MASTER_*`` ... variables of a slurm or MPI launch."""
    env = os.environ
    port = dict(MASTER_PORT=env.get('MASTER_PORT', '29500'))
    if launcher == 'mpi':
        if 'MASTER_ADDR' not in env:
            raise KeyError('The environment variable MASTER_ADDR is not set')
        return dict(port, WORLD_SIZE=env['OMPI_COMM_WORLD_SIZE'],
                    RANK=env['OMPI_COMM_WORLD_RANK'])
    if launcher == 'slurm':
        addr = env.get('MASTER_ADDR') or subprocess.getoutput(
            f'scontrol show hostname {env["SLURM_NODELIST"]} | head -n1')
        return dict(port, MASTER_ADDR=addr, WORLD_SIZE=env['SLURM_NTASKS'],
                    LOCAL_RANK=env.get('SLURM_LOCALID', '0'),
                    RANK=env['SLURM_PROCID'])
    return {}


def init_cpu_distributed(launcher: str,
                         backend: str = 'gloo',
                         timeout: Optional[float] = None) -> None:
    """MMEngine's ``init_dist`` without ``cuda.set_device``."""
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT',
                           'LOCAL_RANK') if k not in os.environ]
    if launcher == 'pytorch' and missing:
        raise RuntimeError(f'--launcher pytorch: the environment lacks '
                           f'{missing}; start with python -m '
                           'torch.distributed.run --nproc_per_node=N ...')
    os.environ.update(_launcher_env(launcher))
    if mp.get_start_method(allow_none=True) is None:
        mp.set_start_method('spawn')
    dist.init_process_group(backend, **({} if timeout is None else dict(
        timeout=datetime.timedelta(seconds=float(timeout)))))


@contextmanager
def data_parallel(enabled: bool = True) -> Iterator[None]:
    """Within the block the helpers below average over the ranks."""
    _ACTIVE.append(bool(enabled))
    try:
        yield
    finally:
        _ACTIVE.pop()


def _averaging() -> bool:
    return bool(_ACTIVE) and _ACTIVE[-1] and get_world_size() > 1


def average_gradients(grads: Sequence[Optional[Tensor]],
                      like: Sequence[Tensor]) -> List[Optional[Tensor]]:
    """``grads`` averaged over the ranks inside :func:`data_parallel`, as new
    tensors; None counts as zeros of ``like``, None on every rank stays."""
    if not _averaging():
        return list(grads)
    out = [(torch.zeros_like(p) if g is None else g.detach().clone())
           if u else None for g, p, u in zip(grads, like, _presence(grads))]
    all_reduce_params([g for g in out if g is not None], op='mean')
    return out


def _presence(grads: Sequence[Optional[Tensor]]) -> List[bool]:
    """Which entries are not None on at least one rank (collective)."""
    used = torch.tensor([g is not None for g in grads], dtype=torch.int32)
    all_reduce(used)
    return [bool(u) for u in used.tolist()]


def average_grads_(params: Iterable[Tensor]) -> None:
    """Average the ``.grad`` of ``params`` over the ranks, in place (None on
    some ranks counts as zeros there; None on every rank stays)."""
    if get_world_size() == 1:
        return
    params = [p for p in params if p.requires_grad]
    for p, used in zip(params, _presence([p.grad for p in params])):
        if used and p.grad is None:
            p.grad = torch.zeros_like(p)
    all_reduce_params([p.grad for p in params if p.grad is not None],
                      op='mean')


def differentiable_average(tensors: Sequence[Tensor]) -> List[Tensor]:
    """Average over the ranks keeping the graph (second-order gradients)."""
    if not _averaging():
        return list(tensors)
    return [_all_reduce_graph(t) / get_world_size() for t in tensors]


def average_value(value: Union[float, Tensor]) -> Union[float, Tensor]:
    """The mean of a number, or of a tensor (returned as a new tensor, no
    host sync), over the ranks inside :func:`data_parallel`."""
    if not _averaging():
        return value
    if isinstance(value, Tensor):
        value = value.detach().clone()
        all_reduce(value, op='mean')
        return value
    t = torch.tensor([float(value)], dtype=torch.float64)
    all_reduce(t, op='mean')
    return t.item()


@contextmanager
def averaged_optimizer_steps(optim_wrappers: Sequence[Any]) -> Iterator[None]:
    """Within the block each optim wrapper's ``step()`` first averages its
    parameters' gradients (so clipping sees the global gradient); a step
    that averages already (nested blocks, a wrapper given twice) raises."""
    with ExitStack() as stack:
        for ow in optim_wrappers:
            if getattr(ow.step, 'averages_grads', False):
                raise RuntimeError(
                    f'averaged_optimizer_steps: {type(ow).__name__}.step '
                    'already averages gradients (nested contexts?)')
            optimizer = getattr(ow, 'optimizer', ow)
            params = list({id(p): p for group in optimizer.param_groups
                           for p in group['params']}.values())

            def step(*args, _params=params, _original=ow.step, **kwargs):
                average_grads_(_params)
                return _original(*args, **kwargs)

            step.averages_grads = True
            if 'step' in vars(ow):  # an own step: put it back
                stack.callback(setattr, ow, 'step', ow.step)
            else:  # the class's method: drop the instance attribute
                stack.callback(delattr, ow, 'step')
            ow.step = step
        yield


def raise_on_any_rank(message: Optional[str]) -> None:
    """Raise FloatingPointError if some rank has a ``message`` (None: fine);
    inside :func:`data_parallel` on every rank, naming the failing ranks."""
    if not _averaging():
        if message is not None:
            raise FloatingPointError(message)
        return
    flags = all_gather(torch.tensor([int(message is not None)]))
    bad, world = [r for r, f in enumerate(flags) if f.item()], len(flags)
    if bad:
        messages = all_gather_object(message)  # collective: every rank
        shown = message if message is not None else messages[bad[0]]
        raise FloatingPointError(f'{shown} [rank(s) {bad} of {world} '
                                 'failed; every rank stops]')


def check_finite(value: Any, what: str) -> None:
    """:func:`raise_on_any_rank` naming ``what`` if ``value`` is not finite."""
    t = torch.as_tensor(value).detach()
    raise_on_any_rank(None if torch.isfinite(t).all() else (
        f'{what} is not finite: '
        f'{t.item() if t.numel() == 1 else t.flatten()[:4].tolist()}'))


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` of rank ``src`` on every rank (picklable objects)."""
    box = [obj]
    broadcast_object_list(box, src=src)
    return box[0]


def broadcast_buffers_(tensors: Sequence[Tensor]) -> None:
    """Copy rank 0's ``tensors`` (e.g. BN statistics) to every rank, one
    flat buffer per dtype."""
    if get_world_size() == 1:
        return
    by_dtype: Dict[torch.dtype, List[Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    with torch.no_grad():
        for group in by_dtype.values():
            flat = _flatten_dense_tensors(group)
            broadcast(flat, 0)
            for t, value in zip(group, _unflatten_dense_tensors(flat, group)):
                t.copy_(value)


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """``[fn(x) for x in items]``, rank r computing items r, r + W, ...; an
    exception on one rank is raised on every rank, naming the ranks."""
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
        cls = type(error) if error else getattr(builtins, name, None)
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            cls = RuntimeError
        text = (f'parallel_map: {name}: {message} [rank(s) {bad} of {world} '
                'failed; every rank stops]')
        try:
            annotated = cls(text)
        except Exception:  # an exception class with other arguments
            raise error or RuntimeError(text)
        raise annotated from error
    results = dict(pair for part, _ in gathered for pair in part)
    return [results[i] for i in range(len(items))]


def rank_seed(seed: int, iteration: int) -> int:
    """``(seed + iteration) · W + rank`` mod 2^31."""
    rank, world = get_dist_info()
    return ((int(seed) + int(iteration)) * world + rank) % 2**31


def _endless_indices(size: int, shuffle: bool, seed: int) -> Iterator[int]:
    """The index stream of an ``InfiniteSampler`` of one rank: epoch after
    epoch, each a permutation drawn from a generator seeded with ``seed``
    (in order without ``shuffle``)."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        yield from (torch.randperm(size, generator=generator).tolist()
                    if shuffle else range(size))


def unshard_sampler_(loader) -> Any:
    """Make ``loader``'s ``DefaultSampler`` / ``InfiniteSampler`` yield the
    whole dataset on this rank, in place; returns ``loader``."""
    from mmengine.dataset import DefaultSampler, InfiniteSampler
    sampler = getattr(loader, 'sampler', None)
    if isinstance(sampler, (DefaultSampler, InfiniteSampler)):
        sampler.rank, sampler.world_size = 0, 1
        if isinstance(sampler, DefaultSampler):
            sampler.num_samples = sampler.total_size = len(sampler.dataset)
        else:
            sampler.indices = _endless_indices(sampler.size, sampler.shuffle,
                                               sampler.seed)
    elif getattr(sampler, 'world_size', 1) != 1:
        raise TypeError(f'unshard_sampler_: {type(sampler).__name__} shards '
                        'the data; use DefaultSampler or InfiniteSampler')
    return loader
