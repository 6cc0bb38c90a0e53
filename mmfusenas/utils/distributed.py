"""Data-parallel primitives over ``torch.distributed`` (any backend).

MMFuseNAS runs distributed on MMEngine's launchers and model wrappers; this
module holds the collective operations the search algorithms, the PMI loop
and the model wrapper share: :func:`init_cpu_distributed` (a process group
without CUDA), :func:`data_parallel` with :func:`average_gradients`
(hypergradients of the global batch), :func:`average_grads_` /
:func:`averaged_optimizer_steps`, the collective error checks
:func:`raise_on_any_rank` / :func:`check_finite`, :func:`broadcast_object`,
:func:`shared_generator` and :func:`parallel_map` (the same random choice
on every rank, candidates scored in parallel), :func:`unshard_sampler_` and
:func:`sum_grads_`. Outside a distributed run every helper is the identity
/ the local computation, so library code calls them unconditionally.
"""
import datetime
import os
import subprocess
from contextlib import contextmanager
from typing import (Any, Callable, Dict, Iterable, Iterator, List,
                    Optional, Sequence, Tuple)

import torch
import torch.distributed as dist
from torch import Tensor

#: launchers of MMEngine (``--launcher``) this module can initialise
LAUNCHERS = ('pytorch', 'slurm', 'mpi')

_ACTIVE: List[bool] = []  # stack of data_parallel() contexts


def get_rank_world() -> Tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` without a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def launcher_rank(launcher: str = 'none') -> int:
    """This process's rank, also before the process group is initialised.

    The rank of the group when one exists; otherwise the one the launcher
    put in the environment (``'pytorch'``: ``RANK``, ``'slurm'``:
    ``SLURM_PROCID``, ``'mpi'``: ``OMPI_COMM_WORLD_RANK``); ``0`` for
    ``'none'`` or when the variable is absent. For messages that only rank
    0 should print while the config is prepared.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    var = dict(pytorch='RANK', slurm='SLURM_PROCID',
               mpi='OMPI_COMM_WORLD_RANK').get(launcher)
    return int(os.environ.get(var, 0)) if var else 0


def is_distributed() -> bool:
    """Whether a process group with more than one rank exists."""
    return get_rank_world()[1] > 1


def init_cpu_distributed(launcher: str,
                         backend: str = 'gloo',
                         timeout: Optional[float] = None,
                         port: Optional[int] = None) -> Tuple[int, int]:
    """Initialise the default process group without touching CUDA.

    MMEngine's runner skips its own ``init_dist`` when a process group
    exists, so the entry points call this first on machines without CUDA.
    The rank / world size come from the launcher's environment:

    * ``'pytorch'``: ``torch.distributed.run`` (``RANK``, ``WORLD_SIZE``,
      ``MASTER_ADDR``, ``MASTER_PORT``);
    * ``'slurm'``: ``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_NODELIST``
      (the first node is the master; ``port`` or ``MASTER_PORT`` or 29500);
    * ``'mpi'``: Open MPI's ``OMPI_COMM_WORLD_RANK`` / ``_SIZE`` with
      ``MASTER_ADDR`` / ``MASTER_PORT`` set by the user.

    Args:
        launcher (str): One of :data:`LAUNCHERS`.
        backend (str): ``'gloo'`` (CPU) or ``'mpi'``. Defaults to 'gloo'.
        timeout (float, optional): Seconds a collective may wait before it
            fails (``init_process_group(timeout=...)``); default: torch's
            (30 minutes).
        port (int, optional): Master port for Slurm.

    Returns:
        tuple[int, int]: ``(rank, world_size)``.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'init_cpu_distributed: launcher must be one of '
                         f'{LAUNCHERS}, got {launcher!r}')
    if backend == 'nccl':
        raise ValueError('init_cpu_distributed: NCCL needs CUDA; use '
                         "env_cfg.dist_cfg.backend='gloo' on CPU")
    env = os.environ
    if launcher == 'slurm':
        rank, world = int(env['SLURM_PROCID']), int(env['SLURM_NTASKS'])
        node_list = env['SLURM_NODELIST']
        addr = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
        env.setdefault('MASTER_ADDR', addr)
        env.setdefault('MASTER_PORT', str(port or 29500))
        env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
    elif launcher == 'mpi':
        rank = int(env['OMPI_COMM_WORLD_RANK'])
        world = int(env['OMPI_COMM_WORLD_SIZE'])
        env['LOCAL_RANK'] = env.get('OMPI_COMM_WORLD_LOCAL_RANK', '0')
    else:
        missing = [
            k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
            if k not in env
        ]
        if missing:
            raise RuntimeError(
                f'--launcher pytorch: the environment lacks {missing}; start '
                'the tool with `python -m torch.distributed.run '
                '--nproc_per_node=N ...` (or torchrun)')
        rank, world = int(env['RANK']), int(env['WORLD_SIZE'])
    env['RANK'], env['WORLD_SIZE'] = str(rank), str(world)
    kwargs = {}
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=float(timeout))
    dist.init_process_group(
        backend=backend,
        init_method='env://',
        rank=rank,
        world_size=world,
        **kwargs)
    return rank, world


# ----------------------------------------------------------------------
# the data-parallel context
# ----------------------------------------------------------------------
@contextmanager
def data_parallel(enabled: bool = True) -> Iterator[None]:
    """Within the block, :func:`average_gradients` averages over the ranks.

    The model wrapper opens it around an algorithm's ``train_step``; nested
    contexts stack (``enabled=False`` switches averaging off inside, e.g.
    for per-rank work).
    """
    _ACTIVE.append(bool(enabled))
    try:
        yield
    finally:
        _ACTIVE.pop()


def data_parallel_active() -> bool:
    """Whether gradients are averaged now (an enabled :func:`data_parallel`
    context in a run of more than one rank)."""
    return bool(_ACTIVE) and _ACTIVE[-1] and is_distributed()


def _flat_collective_(tensors: Sequence[Tensor], collective: Callable,
                      scale: float = 1.0) -> None:
    """Run ``collective`` (in place) on one flat buffer per dtype and copy
    the result, times ``scale``, back into ``tensors``."""
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    for dtype in sorted(by_dtype, key=str):
        group = by_dtype[dtype]
        flat = torch.cat([t.detach().reshape(-1) for t in group])
        collective(flat)
        if scale != 1.0:
            flat.mul_(scale)
        offset = 0
        with torch.no_grad():
            for t in group:
                n = t.numel()
                t.copy_(flat[offset:offset + n].view_as(t))
                offset += n


def _flat_all_reduce_(tensors: Sequence[Tensor], average: bool) -> None:
    """All-reduce (sum or mean) ``tensors`` in place."""
    world = get_rank_world()[1]
    _flat_collective_(tensors, dist.all_reduce,
                      1.0 / world if average else 1.0)


def _presence(grads: Sequence[Optional[Tensor]]) -> List[bool]:
    """Which entries are not None on at least one rank (collective)."""
    mine = torch.tensor([g is not None for g in grads], dtype=torch.int32)
    dist.all_reduce(mine)
    return [bool(v) for v in mine.tolist()]


def average_gradients(grads: Sequence[Optional[Tensor]],
                      like: Sequence[Tensor]) -> List[Optional[Tensor]]:
    """Average per-rank gradients over the ranks (inside
    :func:`data_parallel`; the identity elsewhere).

    With equal per-rank batches and mean-reduced losses, the mean of the
    ranks' gradients is the gradient of the global batch. An entry that is
    ``None`` on some ranks (a tensor not used there) counts as zeros; one
    that is ``None`` on every rank stays ``None``.

    Args:
        grads (Sequence[Tensor | None]): This rank's gradients.
        like (Sequence[Tensor]): The tensors differentiated (shapes of the
            zeros).

    Returns:
        list[Tensor | None]: New tensors (the inputs are not modified).
    """
    if not data_parallel_active():
        return list(grads)
    present = _presence(grads)
    out = [
        (torch.zeros_like(p) if g is None else g.detach().clone())
        if used else None for g, p, used in zip(grads, like, present)
    ]
    _flat_all_reduce_([g for g in out if g is not None], average=True)
    return out


def differentiable_average(tensors: Sequence[Tensor]) -> List[Tensor]:
    """Average over the ranks with a graph through the all-reduce.

    For second-order meta-gradients: the backward of the sum all-reduces
    the incoming gradients (``torch.distributed.nn.functional.all_reduce``).
    The identity outside :func:`data_parallel`.
    """
    if not data_parallel_active():
        return list(tensors)
    world = get_rank_world()[1]
    return [_AllReduceSum.apply(t) / world for t in tensors]


class _AllReduceSum(torch.autograd.Function):
    """Sum over the ranks; the backward sums the incoming gradients (the
    adjoint of the sum over ranks, taken on every rank)."""

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        out = tensor.detach().clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return _AllReduceSum.apply(grad)


def average_value(value: float) -> float:
    """The mean of a Python number over the ranks (inside
    :func:`data_parallel`), e.g. a loss for the log."""
    if not data_parallel_active():
        return value
    t = torch.tensor([float(value)], dtype=torch.float64)
    dist.all_reduce(t)
    return t.item() / get_rank_world()[1]


def average_grads_(params: Iterable[Tensor]) -> None:
    """Average the ``.grad`` of ``params`` over the ranks, in place.

    A parameter without gradient on some ranks gets zeros there; one
    without gradient on all ranks keeps ``grad=None`` (so optimizers still
    skip it). The identity without a process group of size > 1.
    """
    if not is_distributed():
        return
    params = [p for p in params if p.requires_grad]
    present = _presence([p.grad for p in params])
    grads = []
    for p, used in zip(params, present):
        if not used:
            continue
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        grads.append(p.grad)
    if grads:
        with torch.no_grad():
            _flat_all_reduce_(grads, average=True)


def _optimizer_params(optim_wrapper) -> List[Tensor]:
    optimizer = getattr(optim_wrapper, 'optimizer', optim_wrapper)
    seen, params = set(), []
    for group in optimizer.param_groups:
        for p in group['params']:
            if id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return params


@contextmanager
def averaged_optimizer_steps(optim_wrappers: Sequence[Any]) -> Iterator[None]:
    """Average the gradients of each optim wrapper's parameters at its step.

    Within the block, ``optim_wrapper.step()`` (also when called by
    ``update_params``) first averages the ``.grad`` of the parameters of its
    optimizer over the ranks (:func:`average_grads_`), then runs the
    wrapper's own step (gradient clipping, AMP unscaling, the optimizer):
    clipping sees the global gradient, as in single-process training. The
    instances' ``step`` is restored on exit.

    Args:
        optim_wrappers (Sequence[OptimWrapper]): MMEngine optim wrappers.
    """
    patched = []  # (wrapper, its previous instance attribute or None)
    try:
        for ow in optim_wrappers:
            # MMEngine's parameter schedulers already wrap the instance's
            # step (a call counter): keep it and restore it on exit
            previous = vars(ow).get('step')
            if getattr(previous, '_averages_grads', False):
                raise RuntimeError(
                    f'averaged_optimizer_steps: {type(ow).__name__}.step '
                    'already averages gradients (nested contexts)')
            original = ow.step

            def step(*args, _ow=ow, _original=original, **kwargs):
                average_grads_(_optimizer_params(_ow))
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
    """Raise ``error`` on every rank if some rank has a ``message``.

    A model or algorithm that finds a problem on its shard (a NaN loss)
    calls this with the message, the others with ``None``, at the same
    point: inside :func:`data_parallel` it is a collective, so all ranks
    raise together instead of the healthy ones waiting for the failed one
    in the next collective. A rank raises its own message, the others the
    message of the first failing rank; both name the failing ranks.
    Outside :func:`data_parallel` it raises the message locally.

    Args:
        message (str, optional): This rank's error message, None if fine.
        error (type): The exception class. Defaults to FloatingPointError.
    """
    if not data_parallel_active():
        if message is not None:
            raise error(message)
        return
    rank, world = get_rank_world()
    flags = torch.zeros(world, dtype=torch.int32)
    flags[rank] = int(message is not None)
    dist.all_reduce(flags)
    bad = [r for r, f in enumerate(flags.tolist()) if f]
    if not bad:
        return
    messages: List[Optional[str]] = [None] * world
    dist.all_gather_object(messages, message)
    shown = message if message is not None else messages[bad[0]]
    raise error(f'{shown} [rank(s) {bad} of {world} failed; every rank '
                'stops]')


def check_finite(value: Any, what: str, hint: str = '') -> None:
    """Raise :class:`FloatingPointError` (on every rank, see
    :func:`raise_on_any_rank`) if ``value`` is not finite.

    Args:
        value (Tensor | float): The value to check (e.g. a loss).
        what (str): Names the value and the caller in the message.
        hint (str): Appended to the message (context, what to check).
    """
    if isinstance(value, Tensor):
        finite = bool(torch.isfinite(value.detach()).all())
    else:
        finite = bool(torch.isfinite(torch.tensor(float(value))))
    message = None
    if not finite:
        shown = value
        if isinstance(value, Tensor):
            shown = value.item() if value.numel() == 1 else \
                value.detach().flatten()[:4].tolist()
        message = f'{what} is not finite: {shown}{hint}'
    raise_on_any_rank(message)


# ----------------------------------------------------------------------
# the same choice on every rank, parallel scoring
# ----------------------------------------------------------------------
def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` of rank ``src`` on every rank (picklable objects)."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def shared_generator(seed: int, counter: int) -> torch.Generator:
    """A CPU generator seeded identically on every rank.

    One-shot searches sample their path from it with a counter every rank
    advances in step (e.g. the train step count), so all ranks train the
    same sub-network and no weight of it is unused on some rank only.
    """
    generator = torch.Generator()
    generator.manual_seed((int(seed) * 1_000_003 + int(counter)) % 2**63)
    return generator


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """``[fn(x) for x in items]``, the items split across the ranks.

    Rank r computes items r, r + W, r + 2W, ...; the results (picklable)
    are gathered so that every rank returns the full list in the order of
    ``items``. Evolution searches score their candidates this way. ``fn``
    must not run collectives (the ranks call it different numbers of
    times). An exception on one rank is raised on every rank, naming the
    failing ranks (the failing rank raises its exception's type, chained to
    the original; the others the same type for the common errors, else
    :class:`RuntimeError`) instead of leaving them blocked in the gather.
    """
    items = list(items)
    rank, world = get_rank_world()
    if world == 1:
        return [fn(x) for x in items]
    mine, failure, error = [], None, None
    # per-rank work: no collective inside (ranks score different numbers)
    with data_parallel(False):
        try:
            for i in range(rank, len(items), world):
                mine.append((i, fn(items[i])))
        except Exception as err:  # re-raised below, on every rank
            error = err
            failure = (type(err).__name__, str(err))
    gathered: List[Any] = [None] * world
    dist.all_gather_object(gathered, (mine, failure))
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
        cls = {
            'FloatingPointError': FloatingPointError,
            'ValueError': ValueError,
            'KeyError': KeyError,
            'TypeError': TypeError
        }.get(name, RuntimeError)
        raise cls(text)
    results: List[Any] = [None] * len(items)
    for part, _ in gathered:
        for i, value in part:
            results[i] = value
    return results


def broadcast_buffers_(tensors: Sequence[Tensor], src: int = 0) -> None:
    """Copy rank ``src``'s values of ``tensors`` (e.g. BN running
    statistics) to every rank, one flat buffer per dtype."""
    if not is_distributed():
        return
    _flat_collective_(tensors, lambda flat: dist.broadcast(flat, src=src))


def rank_seed(seed: int, iteration: int) -> int:
    """``(seed + iteration) · W + rank`` mod 2^31: distinct per rank and per
    iteration, reproducible, and ``seed + iteration`` with one rank."""
    rank, world = get_rank_world()
    return ((int(seed) + int(iteration)) * world + rank) % 2**31


def unshard_sampler_(loader) -> Any:
    """Make ``loader``'s MMEngine sampler yield the whole dataset on this
    rank (in place; returns ``loader``).

    :class:`~mmengine.dataset.DefaultSampler` and
    :class:`~mmengine.dataset.InfiniteSampler` read the rank and world size
    when they are built and keep every W-th index. A rank that works alone
    on something (its share of an evolution population, the PMI tasks it
    owns) needs the full stream, the one a single process sees: the
    sampler is reset to rank 0 of 1 (same seed, same order). Other samplers
    are left alone only if they do not shard (no ``rank`` /
    ``world_size``); a sharding sampler of another type raises.

    Args:
        loader (DataLoader): A built data loader.

    Returns:
        DataLoader: ``loader``.
    """
    from mmengine.dataset import DefaultSampler, InfiniteSampler
    sampler = getattr(loader, 'sampler', None)
    if isinstance(sampler, DefaultSampler):
        sampler.rank, sampler.world_size = 0, 1
        sampler.num_samples = len(sampler.dataset)
        sampler.total_size = len(sampler.dataset)
    elif isinstance(sampler, InfiniteSampler):
        sampler.rank, sampler.world_size = 0, 1
        sampler.indices = sampler._indices_of_rank()
    elif getattr(sampler, 'world_size', 1) != 1:
        raise TypeError(
            f'unshard_sampler_: {type(sampler).__name__} shards the data '
            'across ranks and is not DefaultSampler / InfiniteSampler; use '
            'one of those for this loader')
    return loader


def sum_grads_(tensors: Sequence[Tensor]) -> None:
    """Sum ``tensors`` over the ranks, in place (one flat all-reduce per
    dtype); the identity without a process group of size > 1."""
    if not is_distributed() or not tensors:
        return
    with torch.no_grad():
        _flat_all_reduce_(list(tensors), average=False)


def check_finite_losses(losses: Dict[str, torch.Tensor],
                        data_samples: Optional[Sequence] = None) -> None:
    """:func:`raise_on_any_rank` with ``FloatingPointError`` naming the first
    non-finite loss of ``losses`` and the stems of ``data_samples``
    (collective inside :func:`data_parallel`: call it on every rank)."""
    error = None
    for name, value in losses.items():
        if not torch.isfinite(value).all():
            stems = [s.get('stem') for s in data_samples or []]
            error = (f'{name} is {value.item()} on samples {stems}; check '
                     'the inputs and the learning rate')
            break
    raise_on_any_rank(error)
