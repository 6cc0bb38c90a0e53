"""Architecture-step speed of the bilevel strategies on TIM's supernet.

Usage::

    python benchmarks/bench_search_speed.py [--channels 8] [--batch 4]
        [--size 64] [--repeat 5] [--interval 20] [--device cpu]

One supernet (the two-level N_F space of
``configs/_base_/models/tim_search_space.py`` at ``--channels``), one pair
of random train / val batches of ``--size`` x ``--size`` patches, and, per
strategy, the median wall time of an architecture step (``strategy.step``
on the search algorithm's bilevel problem + the α optimizer's step; what
``BilevelSearchAlgorithm.train_step`` does on α-update calls) and of a
weight step. Reported:

* ``arch steps/s`` and its ratio to DARTS second order;
* ``search it/s``: iterations of the whole search, each one weight step
  plus an α step every T iterations (T = 1 for DARTS, ``--interval`` for
  IAS, TIM's T = 20), and its ratio to DARTS second order;
* ``arch / weight step``: the cost of one α step in weight steps, and
  ``per iteration``: the search's cost per iteration in weight steps,
  ``1 + (arch / weight) / T`` (what the search adds to plain training).

Strategies: DARTS 1st / 2nd order, IAS (TIM Eq. 4, ``variant='paper'``,
and the released code's ``'official'``), the implicit (IFT, conjugate
gradient, 20 iterations, damping 1.0) hypergradient, and RUAS's cooperative
strategy (two one-step DARTS problems plus the β coupling gradient). The
cooperative strategy needs a scene and a task module: on this single
supernet its α and ω are split by cell (cell 0 = "scene", the rest =
"task", both with the same loss), which gives its cost structure on the
same network, not RUAS's own modules. Ends with ``RESULT {json}``.

All strategies run in the same process on the same supernet, timed
round-robin (one step of each per round), so that machine load affects them
alike; the load average is printed too.


Modes (``--mode NAME``; ``--mode NAME --help`` lists its options):

* ``speed`` (default): this text;
* ``hypergradients``: How good is each strategy's hypergradient, and where does
  its search end? (its text: ``DOC_HYPERGRADIENTS``);
"""
import argparse
import json
import os
import os.path as osp
import statistics
import time

import torch
from mmengine.config import Config
from terminaltables import AsciiTable

from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.engine import BilevelOptimWrapperConstructor
from mmfusenas.registry import MODELS, TASK_UTILS
from mmfusenas.search import BilevelProblem
from mmfusenas.search.strategies.cooperative import CooperativeProblem
from mmfusenas.testing.bilevel_problems import (QuadraticProblem,
                                                RidgeProblem1D, cosine)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

SPACE = osp.join(ROOT, 'configs', '_base_', 'models', 'tim_search_space.py')
STRATEGIES = [
    ('DARTS 2nd order', dict(type='DartsSecondOrderStrategy'), 1),
    ('DARTS 1st order', dict(type='DartsFirstOrderStrategy'), 1),
    ('IAS (TIM, paper)', dict(type='IASStrategy'), None),
    ('IAS (TIM, official)', dict(type='IASStrategy', variant='official'),
     None),
    ('implicit (IFT, CG)',
     dict(type='ImplicitStrategy', max_iters=20, damping=1.0), None),
    ('cooperative (RUAS)', dict(type='CooperativeStrategy'), 1),
]


def build(channels: int, device: str):
    """The search algorithm on TIM's space and its two optimizers."""
    space = Config.fromfile(SPACE).tim_search_space.to_dict()
    space['channels'] = channels
    torch.manual_seed(0)
    algo = MODELS.build(
        dict(
            type='BilevelSearchAlgorithm',
            architecture=dict(
                type='ImageFusor',
                data_preprocessor=dict(
                    type='FusionDataPreprocessor', pad_size_divisor=4),
                fusion_net=space,
                losses=[
                    dict(type='MaxIntensityLoss'),
                    dict(type='MaxGradientLoss', loss_weight=2.0)
                ]),
            strategy=dict(type='IASStrategy'))).to(device)
    optim_wrapper = BilevelOptimWrapperConstructor(
        dict(
            weights=dict(
                optimizer=dict(
                    type='SGD', lr=1e-3, momentum=0.9, weight_decay=3e-4)),
            arch=dict(
                optimizer=dict(
                    type='Adam',
                    lr=3e-4,
                    betas=(0.5, 0.999),
                    weight_decay=1e-3))))(
                        algo)
    return algo, optim_wrapper


def interleaved_medians(fns, warmup: int, repeat: int, device: str) -> list:
    """Median wall seconds of each of ``fns``, timed round-robin (one call
    of each per round) so that a varying machine load hits all alike."""
    times = [[] for _ in fns]
    for round_ in range(warmup + repeat):
        for fn, bucket in zip(fns, times):
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            if round_ >= warmup:
                bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in times]


def main_speed() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--channels', type=int, default=8)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--interval', type=int, default=20, help="IAS's T (TIM: 20)")
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()

    algo, optim_wrapper = build(args.channels, args.device)
    algo.train()
    gen = torch.Generator().manual_seed(0)
    shape = (args.batch, 2, args.size, args.size)
    train = algo.data_preprocessor(
        dict(inputs=torch.rand(shape, generator=gen)), True)
    val = algo.data_preprocessor(
        dict(inputs=torch.rand(shape, generator=gen)), True)

    named_w = dict(algo.named_parameters())
    ids_w = {id(p) for p in algo.weight_parameters()}
    scene_w = [p for n, p in named_w.items()
               if id(p) in ids_w and '.cells.0.' in n]
    task_w = [p for p in algo.weight_parameters()
              if all(p is not q for q in scene_w)]
    arch = algo.arch_parameters()
    named_a = dict(algo.arch_params.named_parameters())
    scene_a = [p for n, p in named_a.items() if '.cell0' in n] \
        or arch[:len(arch) // 2]
    task_a = [p for p in arch if all(p is not q for q in scene_a)]

    def arch_step(strategy):
        if type(strategy).__name__ == 'CooperativeStrategy':
            problem = CooperativeProblem(
                scene_a, scene_w, task_a, task_w,
                train_batch=train,
                val_batch=val,
                scene_loss=algo.total_loss,
                task_loss=algo.total_loss,
                weight_optimizer=optim_wrapper['weights'])
        else:
            problem = BilevelProblem(
                algo.arch_parameters(),
                algo.weight_parameters(),
                train_batch=train,
                val_batch=val,
                train_loss=algo.total_loss,
                val_loss=algo.upper_loss,
                weight_optimizer=optim_wrapper['weights'])
        strategy.step(problem)
        optim_wrapper['arch'].step()
        optim_wrapper['arch'].zero_grad()

    def weight_step():
        optim_wrapper['weights'].update_params(algo.total_loss(train))

    strategies = [TASK_UTILS.build(cfg) for _, cfg, _ in STRATEGIES]
    weight_s, *arch_s = interleaved_medians(
        [weight_step] + [lambda st=st: arch_step(st) for st in strategies],
        args.warmup, args.repeat, args.device)
    rows = []
    for (name, _, interval), seconds in zip(STRATEGIES, arch_s):
        interval = interval or args.interval
        rows.append(
            (name, interval, seconds, 1.0 / (weight_s + seconds / interval)))
    ref_arch, ref_it = rows[0][2], rows[0][3]
    table = [[
        'strategy', 'T', 'arch step (s)', 'arch / weight step',
        'per iteration', 'arch steps/s', 'vs DARTS-2nd', 'search it/s',
        'vs DARTS-2nd'
    ]]
    result = dict(weight_step_s=round(weight_s, 4), strategies={})
    for name, interval, seconds, it_s in rows:
        table.append([
            name,
            str(interval), f'{seconds:.3f}', f'{seconds / weight_s:.2f}',
            f'{1 + seconds / weight_s / interval:.2f}', f'{1 / seconds:.2f}',
            f'{ref_arch / seconds:.2f}x', f'{it_s:.2f}',
            f'{it_s / ref_it:.2f}x'
        ])
        result['strategies'][name] = dict(
            T=interval, arch_step_s=round(seconds, 4),
            arch_over_weight=round(seconds / weight_s, 2),
            per_iteration=round(1 + seconds / weight_s / interval, 3))
    params = sum(p.numel() for p in algo.weight_parameters())
    print(f'supernet: TIM N_F space, C={args.channels}, {params:,} weights, '
          f'{len(algo.arch_parameters())} α vectors; batch {args.batch} x '
          f'{args.size}x{args.size}; device {args.device}, '
          f'{torch.get_num_threads()} threads; weight step '
          f'{weight_s:.3f} s; load average '
          f'{" ".join(f"{x:.2f}" for x in os.getloadavg())}')
    print(AsciiTable(table).table)
    print('RESULT ' + json.dumps(result))


DOC_HYPERGRADIENTS = """How good is each strategy's hypergradient, and where does its search end?

Usage::

    python benchmarks/bench_search_speed.py --mode hypergradients [--outer 300] [--inner 10]

Two bilevel problems with closed-form optima
(:mod:`mmfusenas.testing.bilevel_problems`): ``ridge1d`` (scalar ridge
regression, α = log ridge weight) and ``quadratic`` (a quadratic lower level
with a dense Hessian of condition number 10, α ∈ R²). Per strategy:

* ``cosine``: cosine between the strategy's α-gradient and the exact
  hypergradient ``dF(θ*(α), α)/dα`` at α0, after ``5·inner`` SGD steps on θ
  from 0 (θ close to, not at, θ*(α0); what a search sees);
* ``final α`` / ``gap``: where an alternating search (``inner`` SGD steps
  on θ, then one Adam step on α, lr 0.05 decaying ×0.99 per step, ``outer``
  steps) ends, and ``F(θ*(α)) − F(θ*(α*))`` there.

The last line is ``RESULT {json}`` with, per problem and strategy,
``{cosine, final_alpha, alpha_star, gap}`` (``null`` where a strategy
raises, e.g. DARTS first order when F does not depend on α directly).
"""


HYPERGRADIENTS_STRATEGIES = {
    'DARTS-1st': dict(type='DartsFirstOrderStrategy'),
    'DARTS-2nd': dict(type='DartsSecondOrderStrategy'),
    'IAS paper (Eq. 4)': dict(type='IASStrategy', variant='paper'),
    'IAS official': dict(type='IASStrategy', variant='official'),
    'Implicit CG': dict(type='ImplicitStrategy', solver='cg', max_iters=20),
    'Implicit Neumann': dict(
        type='ImplicitStrategy', solver='neumann', max_iters=200),
}
# (problem, α0, inner learning rate)
PROBLEMS = [(RidgeProblem1D, -2.0, 0.2), (QuadraticProblem, 0.0, 0.15)]


def run_one(problem, strategy, alpha0, lr_w, outer, inner):
    """Cosine at α0 and the end of the alternating search."""
    a0 = torch.full_like(problem.alpha, alpha0)
    out = dict(alpha_star=problem.alpha_star.tolist())
    problem.reset(a0)
    opt = problem.inner_steps(5 * inner, lr_w)
    try:
        grad = strategy.hypergradient(problem.problem(opt)).grads[0]
        out['cosine'] = cosine(grad, problem.exact_hypergradient(a0))
    except (ValueError, FloatingPointError) as err:
        out['cosine'] = None
        out['error'] = str(err).split(';')[0]
    try:
        traj = problem.alternate(
            strategy, a0, outer, inner, lr_w, lr_a=0.05, lr_decay=0.99)
        out['final_alpha'] = traj['alpha'][-1] if traj['alpha'] else None
        out['gap'] = traj['gap'][-1] if traj['gap'] else None
    except (ValueError, FloatingPointError) as err:
        out['final_alpha'] = out['gap'] = None
        out.setdefault('error', str(err).split(';')[0])
    return out


def main_hypergradients():
    parser = argparse.ArgumentParser(
        description=DOC_HYPERGRADIENTS.split('\n')[0])
    parser.add_argument('--outer', type=int, default=300)
    parser.add_argument('--inner', type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)

    result = {}
    for cls, alpha0, lr_w in PROBLEMS:
        problem = cls()
        rows = [['strategy', 'cosine', 'final α', 'α*', 'F gap']]
        result[problem.name] = {}
        for label, cfg in HYPERGRADIENTS_STRATEGIES.items():
            res = run_one(problem, TASK_UTILS.build(cfg), alpha0, lr_w,
                          args.outer, args.inner)
            result[problem.name][label] = res

            def fmt(x):
                if x is None:
                    return 'n/a'
                return ', '.join(f'{v:+.4f}' for v in x)

            rows.append([
                label, 'n/a' if res['cosine'] is None else
                f'{res["cosine"]:+.4f}',
                fmt(res['final_alpha']),
                fmt(res['alpha_star']),
                'n/a' if res['gap'] is None else f'{res["gap"]:.2e}'
            ])
        print(f'\n{problem.name}: α0 = {alpha0}, {args.outer} α steps x '
              f'{args.inner} SGD steps (lr {lr_w})')
        print(AsciiTable(rows).table)
    print('RESULT ' + json.dumps(result))


MODES = {'speed': main_speed, 'hypergradients': main_hypergradients}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``speed``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
