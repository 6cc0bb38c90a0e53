"""Helpers shared by the equal-budget task-module benchmarks.

``bench_task_necks.py`` (detection necks) and ``bench_task_decoders.py``
(segmentation decoders) compare a searched cell-based module with mmdet /
mmseg baselines and random genotypes of the same space at matched FLOPs.
Both use the helpers here: the cost of a model (params, FLOPs, latency),
the largest width within a FLOP budget, random genotypes of a cell space,
the process pool that runs one (variant, seed) job per process, and the
summary table.
"""
import argparse
import copy
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Dict, List, Sequence

import numpy as np
import torch

from mmfusenas.models.ops import TASK_OP_NAMES


def common_parser(doc: str, model: str, space: str, num: int, batch: int,
                  random: int, widths: Sequence[int],
                  variants: str) -> argparse.ArgumentParser:
    """The options every task-module benchmark shares: toy data, training
    schedule, seeds, random genotypes, widths, variants, processes and
    output. ``model`` / ``space`` / ``variants`` name the trained model,
    the searched space and the variant names in the help texts."""
    p = argparse.ArgumentParser(description=doc.split('\n')[0])
    p.add_argument('--num', type=int, default=num,
                   help='pairs generated (val = num // 4)')
    p.add_argument('--data-seed', type=int, default=0)
    p.add_argument('--res', type=int, default=128)
    p.add_argument('--iters', type=int, default=200,
                   help=f'training iterations of every {model}')
    p.add_argument('--batch', type=int, default=batch)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--random', type=int, default=random,
                   help=f'random genotypes of the {space} space')
    p.add_argument('--random-seed', type=int, default=0)
    p.add_argument('--num-nodes', type=int, default=2,
                   help='nodes per distillation cell')
    p.add_argument('--widths', type=int, nargs='+', default=list(widths),
                   help=f'{space} widths tried, the largest within the '
                   'baseline\'s budget')
    p.add_argument('--variants', nargs='+', default=None,
                   help=f'subset of {variants}')
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--data-dir', default=None,
                   help='toy set to use (generated there when missing)')
    p.add_argument('--json-out', default=None)
    return p


def cost(cfg: dict, res: int, latency: bool = False,
         scope: str = 'mmdet') -> Dict[str, float]:
    """Params (M), GFLOPs and (optionally) 1-thread latency (ms) of the
    model ``cfg`` (an mmdet / mmseg config built in ``scope``) on one
    ``3 x res x res`` image (its ``forward`` in ``'tensor'`` mode: for an
    mmseg ``EncoderDecoder`` the backbone and the decode head, not the
    auxiliary head, which inference does not run)."""
    from importlib import import_module

    from mmengine.registry import DefaultScope

    import mmfusenas.models  # noqa: F401  (registers mmfusenas.* types)
    from mmfusenas.search.estimators import (count_flops, count_params,
                                             measure_latency)
    torch.manual_seed(0)
    # in the model's scope, without changing the caller's default scope
    with DefaultScope.overwrite_default_scope(scope):
        model = import_module(f'{scope}.registry').MODELS.build(
            copy.deepcopy(cfg))
        x = torch.randn(1, 3, res, res)
        out = dict(
            params_m=count_params(model) / 1e6,
            gflops=count_flops(model, x).flops / 1e9)
        if latency:
            lat = measure_latency(model, x, repeats=10, warmup=3, threads=1)
            out['latency_ms'] = lat.median_ms
    return out


def largest_width(make_cfg: Callable[[int], dict], widths: Sequence[int],
                  budget: Dict[str, float], res: int,
                  scope: str = 'mmdet') -> int:
    """The largest ``w`` of ``widths`` whose model ``make_cfg(w)`` costs at
    most ``budget`` at ``res`` px: every key of ``budget`` (``'gflops'``,
    ``'params_m'``) is a cap of :func:`cost`'s value of that name.

    Raises:
        ValueError: when no width fits.
    """
    for w in sorted(widths, reverse=True):
        c = cost(make_cfg(w), res, scope=scope)
        if all(c[k] <= v + 1e-9 for k, v in budget.items()):
            return w
    raise ValueError(f'no width of {list(widths)} fits the budget '
                     f'{budget}')


def random_ops(rng: np.random.Generator, num_cells: int,
               num_nodes: int) -> List[List[str]]:
    """One uniformly drawn task operator per edge of ``num_cells`` cells of
    ``num_nodes`` nodes (``n (n + 1) / 2`` edges each)."""
    n_edges = num_nodes * (num_nodes + 1) // 2
    ops = list(TASK_OP_NAMES)
    return [[ops[rng.integers(len(ops))] for _ in range(n_edges)]
            for _ in range(num_cells)]


def run_jobs(fn: Callable, jobs: List[tuple], processes: int) -> list:
    """``[fn(job) for job in jobs]`` on ``processes`` spawned processes
    (each job a separate process slot, so seeds run side by side); in this
    process when ``processes <= 1``."""
    if processes <= 1:
        return [fn(job) for job in jobs]
    ctx = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
        return list(pool.map(fn, jobs))


def cost_and_train(archs: Dict[str, dict], run_fn: Callable, root: str,
                   args, scope: str = 'mmdet') -> tuple:
    """The cost (with latency) of every variant of ``archs`` and one
    ``run_fn((name, cfg, seed, root, args))`` per variant and seed of
    ``args.seeds`` on ``args.jobs`` processes; returns ``(costs, rows)``."""
    costs = {name: cost(cfg, args.res, latency=True, scope=scope)
             for name, cfg in archs.items()}
    jobs = [(name, cfg, seed, root, args) for seed in args.seeds
            for name, cfg in archs.items()]
    print(f'{len(jobs)} training runs on {args.jobs} processes', flush=True)
    return costs, run_jobs(run_fn, jobs, args.jobs)


def summarise(rows: List[dict], names: Sequence[str], metric: str,
              extra: Sequence[str], costs: Dict[str, dict],
              widths: Dict[str, int], seeds: Sequence[int],
              label: str) -> Dict[str, dict]:
    """Print the per-variant table (width, params, GFLOPs, latency, the
    metric per seed, mean, population std and the means of ``extra``) and
    return it as a dict keyed by variant name."""
    head = (f"{label:<14} | {'width':>5} | {'params M':>8} | {'GFLOPs':>6} "
            f"| {'lat ms':>6} | " +
            ' | '.join(f'{"s" + str(s):>6}' for s in seeds) +
            f' | {metric:>6} | {"std":>6} | ' +
            ' | '.join(f'{e:>6}' for e in extra))
    print(head)
    print('-' * len(head))
    summary = {}
    for name in names:
        rs = sorted((r for r in rows if r['name'] == name),
                    key=lambda r: r['seed'])
        vals = [r[metric] for r in rs]
        summary[name] = dict(
            width=widths.get(name),
            per_seed=vals,
            std=float(np.std(vals)),
            **{metric: float(np.mean(vals))},
            **{e: float(np.mean([r[e] for r in rs]))
               for e in extra},
            **costs[name])
        s = summary[name]
        width = '-' if s['width'] is None else s['width']
        print(f"{name:<14} | {width:>5} | {s['params_m']:8.3f} | "
              f"{s['gflops']:6.3f} | {s['latency_ms']:6.1f} | " +
              ' | '.join(f'{m:6.4f}' for m in vals) +
              f" | {s[metric]:6.4f} | {s['std']:6.4f} | " +
              ' | '.join(f'{s[e]:6.4f}' for e in extra))
    rand = [v[metric] for k, v in summary.items() if k.startswith('random')]
    if rand:
        print(f'random genotypes: mean {metric} {np.mean(rand):.4f}, best '
              f'{np.max(rand):.4f}, worst {np.min(rand):.4f}')
    return summary
