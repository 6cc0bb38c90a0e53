"""Launch small multi-process (gloo, CPU) runs for tests and benchmarks.

:func:`launch` spawns ``world_size`` processes with a fresh gloo process
group, runs a module-level function in each and returns every rank's result
(or the exception it raised), never hanging: a run that exceeds its time
limit is killed and reported; :func:`results_or_raise` unwraps the results.
:func:`strip_batchnorm` makes a model whose W-rank run computes what one
process does on the union of the ranks' batches. The scenario runs the
tests launch live in ``tests/helpers/distributed.py``.
"""
import os
import os.path as osp
import socket
import tempfile
import time
import traceback
from typing import Any, Callable, List, Optional, Sequence

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn


def free_port() -> int:
    """A TCP port that is free now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, out_dir: str,
            fn: Callable, args: tuple, init: bool) -> None:
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        OMP_NUM_THREADS='1')
    torch.set_num_threads(1)
    if init:
        dist.init_process_group(
            'gloo', rank=rank, world_size=world_size, init_method='env://')
    try:
        result = dict(ok=fn(rank, world_size, *args))
    except Exception as err:  # reported to the parent, which re-raises
        result = dict(
            error=type(err).__name__,
            message=str(err),
            traceback=traceback.format_exc())
    path = osp.join(out_dir, f'rank{rank}.pt')
    torch.save(result, path + '.tmp')
    os.replace(path + '.tmp', path)
    if dist.is_initialized():
        dist.destroy_process_group()


def launch(fn: Callable,
           world_size: int = 2,
           args: Sequence[Any] = (),
           timeout: float = 300.0,
           start_method: Optional[str] = None,
           init_process_group: bool = True) -> List[dict]:
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` processes.

    Args:
        fn (Callable): A module-level (picklable) function; its return value
            must be saveable with ``torch.save`` and loadable with
            ``weights_only=True`` (tensors, numbers, strings, containers).
        world_size (int): Number of processes. Defaults to 2.
        args (Sequence): More positional arguments of ``fn``.
        timeout (float): Seconds before the processes are killed and
            :class:`TimeoutError` is raised. Defaults to 300.
        start_method (str, optional): ``'fork'`` (the default: the
            children inherit the imported modules and the settings of the
            process, e.g. :mod:`cpu_kernels.switches`, so they start
            in well under a second) or ``'spawn'`` (a fresh interpreter per
            rank, as a launcher gives, ~10 s of imports, default settings;
            ``fn`` must then be importable).
        init_process_group (bool): Initialise the gloo group before calling
            ``fn`` (default); False leaves it to ``fn`` (with the
            ``torch.distributed.run`` environment variables set), as a
            tool started with ``--launcher pytorch`` does.

    Returns:
        list[dict]: Per rank, ``dict(ok=result)`` or ``dict(error=name,
        message=str, traceback=str)``.
    """
    start_method = start_method or 'fork'
    with tempfile.TemporaryDirectory() as out_dir:
        context = mp.start_processes(
            _worker,
            args=(world_size, free_port(), out_dir, fn, tuple(args),
                  init_process_group),
            nprocs=world_size,
            join=False,
            start_method=start_method)
        deadline = time.monotonic() + timeout
        while not context.join(timeout=1.0):
            if time.monotonic() > deadline:
                for process in context.processes:
                    if process.is_alive():
                        process.kill()
                done = sorted(os.listdir(out_dir))
                raise TimeoutError(
                    f'launch: {fn.__name__} did not finish within '
                    f'{timeout:.0f} s (results: {done}); a rank is probably '
                    'blocked in a collective')
        results = []
        for rank in range(world_size):
            path = osp.join(out_dir, f'rank{rank}.pt')
            if not osp.isfile(path):
                raise RuntimeError(f'launch: rank {rank} wrote no result')
            results.append(torch.load(path, weights_only=True))
        return results


def results_or_raise(results: List[dict]) -> List[Any]:
    """The ``ok`` values; raises with the first rank's traceback if any
    rank failed."""
    for rank, result in enumerate(results):
        if 'error' in result:
            raise RuntimeError(f'rank {rank} failed: {result["traceback"]}')
    return [r['ok'] for r in results]


def strip_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm by ``nn.Identity`` (in place), so that a
    W-rank run with batch b computes what one process with batch W·b does."""
    for name, child in list(module.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            strip_batchnorm(child)
    return module
