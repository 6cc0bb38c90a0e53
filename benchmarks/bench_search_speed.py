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
  IAS, TIM's T = 20), and its ratio to DARTS second order.

All strategies run in the same process on the same supernet, timed
round-robin (one step of each per round), so that machine load affects them
alike; the load average is printed too.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time

import torch
from mmengine.config import Config
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmfusenas.registry import MODELS, TASK_UTILS  # noqa: E402
from mmfusenas.search import BilevelOptimWrapperConstructor  # noqa: E402
from mmfusenas.search import BilevelProblem  # noqa: E402

SPACE = osp.join(ROOT, 'configs', '_base_', 'models', 'tim_search_space.py')
STRATEGIES = [('DARTS 2nd order', 'DartsSecondOrderStrategy', 1),
              ('DARTS 1st order', 'DartsFirstOrderStrategy', 1),
              ('IAS (TIM)', 'IASStrategy', None)]


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


def main() -> None:
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

    def arch_step(strategy):
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

    strategies = [TASK_UTILS.build(dict(type=t)) for _, t, _ in STRATEGIES]
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
        'strategy', 'T', 'arch step (s)', 'arch steps/s', 'vs DARTS-2nd',
        'search it/s', 'vs DARTS-2nd'
    ]]
    for name, interval, seconds, it_s in rows:
        table.append([
            name,
            str(interval), f'{seconds:.3f}', f'{1 / seconds:.2f}',
            f'{ref_arch / seconds:.2f}x', f'{it_s:.2f}',
            f'{it_s / ref_it:.2f}x'
        ])
    params = sum(p.numel() for p in algo.weight_parameters())
    print(f'supernet: TIM N_F space, C={args.channels}, {params:,} weights, '
          f'{len(algo.arch_parameters())} α vectors; batch {args.batch} x '
          f'{args.size}x{args.size}; device {args.device}, '
          f'{torch.get_num_threads()} threads; weight step '
          f'{weight_s:.3f} s; load average '
          f'{" ".join(f"{x:.2f}" for x in os.getloadavg())}')
    print(AsciiTable(table).table)


if __name__ == '__main__':
    main()
