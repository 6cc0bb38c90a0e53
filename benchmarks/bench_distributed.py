"""Data-parallel throughput of search and training on CPU processes. Usage::

    python benchmarks/bench_distributed.py [--ranks 1 2] [--batch 4]
        [--size 32] [--steps 6] [--warmup 2] [--channels 8]

For every workload and rank count W, W forked processes (gloo, one intra-op
thread each) run ``--steps`` timed train steps (after ``--warmup`` untimed
ones) with per-rank batch ``--batch`` on random ``--size`` px IR/VIS
pairs, through :class:`~mmfusenas.engine.AlgorithmDistributedDataParallel`:

* ``ias``: the TIM search space (``channels``), IAS, an α step every step;
* ``darts2``: the same space, DARTS 2nd order (virtual step + FD HVP);
* ``train``: the fixed TIM fusion network of the toy training config
  (MMEngine's DDP step);
* ``oneshot``: DCNAS supernet training (``GuidedDepthSR`` + ``DCNASNet``,
  ``channels`` features, 2 blocks) on toy RGB-D pairs, one uniformly
  sampled path per step, the same on every rank (the wrapper's algorithm
  mode: gradients of the path averaged at the optimizer step);
* ``evolution``: one generation of W x ``--batch`` random paths of the
  same supernet, each scored on ``--val`` validation pairs (RMSE), the
  paths split across the ranks by ``parallel_map`` (a "sample" is a scored
  path here).

Printed per workload: seconds per step (slowest rank), samples per second,
the speed-up of W ranks over one in samples per second (ideal: W, when W
free cores are available), the CPU seconds per sample summed over the
ranks and the CPU efficiency (1-rank CPU s/sample over W-rank CPU
s/sample; 1.0 = distributing adds no work: communication and duplicated
work are what lowers it). On a shared machine the wall-time speed-up
reflects the CPU share the processes get; the CPU efficiency does not.
"""
import argparse
import json
import os.path as osp
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmfusenas.testing.distributed import (launch, results_or_raise,  # noqa
                                           strip_batchnorm)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--ranks', type=int, nargs='+', default=[1, 2])
    p.add_argument('--batch', type=int, default=4, help='per rank')
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--steps', type=int, default=6)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--channels', type=int, default=8)
    p.add_argument(
        '--val', type=int, default=4, help='evolution: pairs per score')
    p.add_argument(
        '--workloads', nargs='+', default=['ias', 'darts2', 'train'])
    return p.parse_args()


def _model(workload: str, channels: int):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import MODELS
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    if workload == 'train':
        cfg = Config.fromfile(
            osp.join(REPO, 'configs', 'tim', 'fusion_ivif_toy.py'))
        cfg.model.fusion_net.channels = channels
        return MODELS.build(cfg.model)
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tim', 'search_fusion_ivif_toy.py'))
    cfg.model.architecture.fusion_net.channels = channels
    cfg.model.arch_update_interval = 1
    cfg.model.strategy = dict(
        type='IASStrategy' if workload == 'ias' else
        'DartsSecondOrderStrategy')
    return MODELS.build(cfg.model)


def _optim(model, workload):
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    if workload == 'train':
        return OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))
    return OptimWrapperDict(
        weights=OptimWrapper(
            torch.optim.SGD(model.weight_parameters(), lr=1e-3,
                            momentum=0.9)),
        arch=OptimWrapper(torch.optim.Adam(model.arch_parameters(),
                                           lr=3e-4)))


def _supernet(args):
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import MODELS
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='GuidedDepthSR',
            network=dict(
                type='DCNASNet', num_features=args.channels, num_blocks=2),
            loss_space='normalised',
            mask_invalid=False))


def _rgbd_batches(args, split, rank):
    """An endless stream of collated toy RGB-D batches of this rank."""
    from mmengine.dataset import default_collate
    from mmengine.registry import init_default_scope

    from mmfusenas.registry import DATASETS
    init_default_scope('mmfusenas')
    dataset = DATASETS.build(
        dict(
            type='GISRDataset',
            data_root=osp.join(args.rgbd, split),
            test_mode=split != 'train',
            pipeline=[
                dict(type='LoadGISRSample'),
                dict(type='GISRModCrop', multiple=32),
                dict(type='GISRDegrade', scale=4, norm='lr_minmax'),
                dict(type='PackGISRInputs')
            ]))
    samples = [dataset[i] for i in range(len(dataset))]
    gen = torch.Generator().manual_seed(100 + rank)
    size = args.batch if split == 'train' else 1
    while True:
        idx = torch.randint(len(samples), (size, ), generator=gen).tolist()
        yield default_collate([samples[i] for i in idx])


def _bench_one_shot(rank, world_size, workload, args):
    import random

    from mmengine.optim import OptimWrapper

    from mmfusenas.engine import AlgorithmDistributedDataParallel
    from mmfusenas.models.mutables import (apply_choices, one_shot_space,
                                           random_choices)
    from mmfusenas.utils.distributed import parallel_map
    model = _supernet(args)
    space = one_shot_space(model)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    wrapped = AlgorithmDistributedDataParallel(model) \
        if world_size > 1 else model
    counter = [0]
    if workload == 'oneshot':
        batches = _rgbd_batches(args, 'train', rank)

        def step():
            # the same path on every rank (a shared counter)
            rng = random.Random(counter[0])
            counter[0] += 1
            apply_choices(model, random_choices(space, rng))
            wrapped.train_step(next(batches), optim)
    else:
        val_stream = _rgbd_batches(args, 'val', 0)
        val = [next(val_stream) for _ in range(args.val)]

        @torch.no_grad()
        def score(path):
            apply_choices(model, path)
            model.eval()
            errors = []
            for batch in val:
                for out in model.val_step(batch):
                    errors.append(
                        (out['pred_depth'] - out['gt_depth']).square().mean())
            return torch.stack(errors).mean().sqrt().item()

        def step():
            rng = random.Random(counter[0])
            counter[0] += 1
            paths = [
                random_choices(space, rng)
                for _ in range(world_size * args.batch)
            ]
            parallel_map(score, paths)

    return _time(step, world_size, args)


def _time(step, world_size, args):
    """(wall seconds per step of this rank, its CPU seconds per step)."""
    for _ in range(args.warmup):
        step()
    if world_size > 1:
        torch.distributed.barrier()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    cpu = time.process_time() - cpu
    if world_size > 1:
        torch.distributed.barrier()
    return (time.perf_counter() - start) / args.steps, cpu / args.steps


def _bench(rank, world_size, workload, args):
    from mmfusenas.engine import AlgorithmDistributedDataParallel
    if workload in ('oneshot', 'evolution'):
        return _bench_one_shot(rank, world_size, workload, args)
    model = strip_batchnorm(_model(workload, args.channels))
    optim = _optim(model, workload)
    if world_size > 1:
        model = AlgorithmDistributedDataParallel(model)
    gen = torch.Generator().manual_seed(100 + rank)

    def batch():
        return dict(inputs=torch.rand(
            args.batch, 2, args.size, args.size, generator=gen))

    def step():
        data = dict(train=batch(), val=batch()) \
            if workload != 'train' else batch()
        model.train_step(data, optim)

    return _time(step, world_size, args)


def main() -> None:
    args = parse_args()
    rows, result = [], {}
    tmp = None
    if {'oneshot', 'evolution'} & set(args.workloads):
        import tempfile

        from mmfusenas.toy_data import generate_toy_rgbd
        tmp = tempfile.TemporaryDirectory()
        args.rgbd = osp.join(tmp.name, 'rgbd')
        generate_toy_rgbd(
            args.rgbd, 8, max(args.val, 2), 1, seed=0,
            size=max(32, args.size // 32 * 32))
    for workload in args.workloads:
        base = None
        for world in args.ranks:
            if world == 1:
                timings = [_bench(0, 1, workload, args)]
            else:
                timings = results_or_raise(
                    launch(_bench, world, (workload, args), timeout=1800))
            per_step = max(t[0] for t in timings)
            samples = world * args.batch
            cpu_per_sample = sum(t[1] for t in timings) / samples
            throughput = samples / per_step
            if world == 1:
                base, base_cpu = throughput, cpu_per_sample
            speedup = throughput / base
            efficiency = base_cpu / cpu_per_sample
            rows.append((workload, world, per_step, throughput, speedup,
                         cpu_per_sample, efficiency))
            key = f'{workload}_w{world}'
            result[f'{key}_s_per_step'] = round(per_step, 4)
            result[f'{key}_samples_per_s'] = round(throughput, 3)
            result[f'{key}_speedup'] = round(speedup, 3)
            result[f'{key}_cpu_s_per_sample'] = round(cpu_per_sample, 4)
            result[f'{key}_cpu_efficiency'] = round(efficiency, 3)
    print(f'per-rank batch {args.batch}, {args.size}x{args.size} px, '
          f'C={args.channels}, {args.steps} timed steps, 1 thread per rank')
    print(f'{"workload":<8} {"ranks":>5} {"s/step":>8} {"samples/s":>10} '
          f'{"speed-up":>9} {"cpu-s/sample":>13} {"cpu eff.":>9}')
    for workload, world, per_step, throughput, speedup, cpu, eff in rows:
        print(f'{workload:<8} {world:>5} {per_step:>8.3f} '
              f'{throughput:>10.2f} {speedup:>9.2f} {cpu:>13.3f} '
              f'{eff:>9.2f}')
    print('(oneshot / evolution: "samples" are training pairs / scored '
          'paths)')
    print('RESULT ' + json.dumps(result))
    if tmp is not None:
        tmp.cleanup()


if __name__ == '__main__':
    main()
