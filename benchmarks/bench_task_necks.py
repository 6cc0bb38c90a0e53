"""Equal-budget comparison of detection necks on the toy IR/VIS data.

TIM (Sec. 4.3.1) credits its detection gain to the searched neck. This
benchmark trains the toy RetinaNet (ResNet-18 at 1/4 width, no pretrained
weights, ``mmfusenas.testing.toy_retinanet``) on the early-fused toy input
``[IR, Y, max(IR, Y)]`` with the *same* schedule, batch order, flips,
optimiser and seeds, changing only the neck:

* ``fpn``: mmdet's FPN (64 channels, strides 4-32) -- the baseline;
* ``pafpn``: mmdet's PAFPN (64 channels);
* ``searched``: the :class:`~mmfusenas.models.necks.SearchableDistillationNeck`
  found by the project's own search (``BilevelSearchAlgorithm`` + the
  ``--strategy``, every edge choosing among TIM's 11 task operators, weights
  on one half of the train split, α on the other), derived, then retrained
  from scratch like the others;
* ``random<k>``: ``--random`` genotypes of the same space drawn uniformly
  (edge by edge) with a fixed generator (``--random-seed``).

Equal budget: every distillation neck is rebuilt at the largest width of
``--widths`` whose whole-detector FLOPs (one 3x``--res``x``--res`` image) do
not exceed FPN's, so no searched or random neck gets more compute than the
baseline; the table lists params, GFLOPs and single-thread CPU latency of
each detector. mAP is COCO bbox mAP (pycocotools) on the toy val split.
Seeds run in parallel processes (``--jobs``, one thread each).

Example::

    python benchmarks/bench_task_necks.py                    # full run
    python benchmarks/bench_task_necks.py --seeds 0 --random 2 --iters 50
    python benchmarks/bench_task_necks.py --genotype G.yaml  # skip search

The derived genotype is written to ``--genotype-out`` (a neck config that
``dict(type='mmfusenas.GenotypeNet', genotype=PATH)`` rebuilds); the last
line is ``RESULT {json}``.
"""
import argparse
import copy
import json
import logging
import os
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, List

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from bench_toy_complementarity import (load_split, make_input,  # noqa
                                       samples, train_and_eval)
from task_bench_common import (common_parser, cost,  # noqa
                               cost_and_train, largest_width, random_ops,
                               summarise)

from mmfusenas.models.ops import TASK_OP_NAMES  # noqa
from mmfusenas.testing.task_models import toy_retinanet  # noqa
from mmfusenas.toy_data.ivif import CLASSES, generate_toy_dataset  # noqa

BC = 16  # the toy ResNet-18's base width: levels of 16, 32, 64, 128
IN_CHANNELS = [BC, BC * 2, BC * 4, BC * 8]
STRIDES = [4, 8, 16, 32]


def parse_args() -> argparse.Namespace:
    p = common_parser(
        __doc__, 'detector', 'neck', num=400, batch=16, random=8,
        widths=[64, 56, 48, 40, 32, 24, 16],
        variants='fpn pafpn searched random<k>')
    p.add_argument('--search-iters', type=int, default=150)
    p.add_argument('--search-width', type=int, default=16,
                   help='supernet width (the derived neck is rebuilt at the '
                   'matched width)')
    p.add_argument('--search-batch', type=int, default=8)
    p.add_argument('--strategy', default='IASStrategy',
                   choices=['IASStrategy', 'DartsFirstOrderStrategy'])
    p.add_argument('--arch-interval', type=int, default=2,
                   help='weight steps per alpha step')
    p.add_argument('--search-seed', type=int, default=0)
    p.add_argument('--genotype', default=None,
                   help='use this genotype file instead of searching')
    p.add_argument('--genotype-out', default=None,
                   help='write the searched genotype here')
    return p.parse_args()


# ---------------------------------------------------------------- models
def fixed_neck(ops, width: int, num_nodes: int) -> dict:
    """The distillation neck over C2-C5 (strides 4-32, as the toy FPN) with
    ``ops`` (one list of edge specs per cell) or, given a single spec, that
    spec as ``edge_cfg`` on every edge."""
    edges = dict(edge_cfg=ops) if isinstance(ops, (str, dict)) else dict(
        ops=ops)
    return dict(
        type='mmfusenas.SearchableDistillationNeck',
        in_channels=IN_CHANNELS,
        out_channels=width,
        num_outs=4,
        num_nodes=num_nodes,
        strides=STRIDES,
        **edges)


def neck_space(width: int, num_nodes: int) -> dict:
    """The supernet neck: every edge a DiffMixedOp over TIM's task ops."""
    return fixed_neck(
        dict(type='DiffMixedOp', key='neck', candidates=list(TASK_OP_NAMES)),
        width, num_nodes)


def detector(neck: dict = None) -> dict:
    """The toy RetinaNet with ``neck`` (FPN when None)."""
    cfg = toy_retinanet(len(CLASSES))
    if neck is not None:
        cfg['neck'] = neck
        width = neck.get('out_channels', 64)
        cfg['bbox_head']['in_channels'] = width
    return cfg


def match_width(ops: List[List[str]], args, budget: float) -> int:
    """Largest width of ``--widths`` whose detector FLOPs <= budget."""
    return largest_width(
        lambda w: detector(fixed_neck(ops, w, args.num_nodes)), args.widths,
        dict(gflops=budget), args.res)


# ---------------------------------------------------------------- search
def search(train: dict, args) -> dict:
    """Bilevel neck search on the toy detector; returns the genotype."""
    from mmengine.logging import MMLogger
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    from mmengine.registry import init_default_scope

    from mmfusenas.search import BilevelSearchAlgorithm
    init_default_scope('mmfusenas')
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    torch.manual_seed(args.search_seed)
    arch = detector(neck_space(args.search_width, args.num_nodes))
    arch['_scope_'] = 'mmdet'
    strategy = dict(type=args.strategy)
    algo = BilevelSearchAlgorithm(
        architecture=arch,
        strategy=strategy,
        space_path='neck',
        arch_update_interval=args.arch_interval)
    algo.architecture.init_weights()
    wopt = torch.optim.AdamW(
        algo.weight_parameters(), lr=args.lr, weight_decay=1e-4)
    aopt = torch.optim.Adam(
        algo.arch_parameters(), lr=3e-3, betas=(0.5, 0.999),
        weight_decay=1e-3)
    wrappers = OptimWrapperDict(
        weights=OptimWrapper(wopt, clip_grad=dict(max_norm=10.0)),
        arch=OptimWrapper(aopt))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        wopt, T_max=args.search_iters, eta_min=1e-5)
    x_all = make_input('stack', train['ir'], train['y'])
    n = x_all.shape[0]
    g = torch.Generator().manual_seed(args.search_seed)
    perm = torch.randperm(n, generator=g)
    halves = perm[:n // 2], perm[n // 2:]  # weights, alpha (DARTS split)

    def batch(pool):
        idx = pool[torch.randint(0, len(pool), (args.search_batch, ),
                                 generator=g)]
        flip = torch.rand(args.search_batch, generator=g) < 0.5
        x = x_all[idx].clone()
        boxes, labels = [], []
        for j, i in enumerate(idx.tolist()):
            b = train['boxes'][i].clone()
            if flip[j]:
                x[j] = x[j].flip(-1)
                b[:, [0, 2]] = args.res - b[:, [2, 0]]
            boxes.append(b)
            labels.append(train['labels'][i])
        return dict(inputs=x, data_samples=samples(boxes, labels, args.res))

    algo.train()
    t0 = time.perf_counter()
    for it in range(args.search_iters):
        data = dict(train=batch(halves[0]))
        if algo.arch_step_due:
            data['val'] = batch(halves[1])
        log = algo.train_step(data, wrappers)
        sched.step()
        if (it + 1) % 10 == 0:
            print(f'  search iter {it + 1}/{args.search_iters}: loss '
                  f"{float(log['loss']):.3f}", flush=True)
    geno = algo.derive_genotype(
        meta=dict(search_iters=args.search_iters,
                  search_seconds=round(time.perf_counter() - t0, 1)))
    return geno


# ---------------------------------------------------------------- runs
def run_one(job: tuple) -> dict:
    name, cfg, seed, root, args = job
    torch.set_num_threads(args.threads)
    train = load_split(root, 'train', args.res)
    val = load_split(root, 'val', args.res)
    gt_json = osp.join(root, 'annotations', 'instances_val.json')
    r = train_and_eval('stack', seed, train, val, args, gt_json,
                       model_cfg=copy.deepcopy(cfg))
    r.update(name=name, seed=seed)
    print(f"  {name:10s} seed {seed}: mAP {r['mAP']:.4f} AP50 "
          f"{r['AP50']:.4f} ({r['train_s']:.0f} s)", flush=True)
    return r


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    tmp = tempfile.TemporaryDirectory()
    root = args.data_dir or osp.join(tmp.name, 'toy')
    if not osp.isfile(osp.join(root, 'meta.json')):
        generate_toy_dataset(
            root, num=args.num, seed=args.data_seed, val_fraction=0.25)
    train = load_split(root, 'train', args.res)

    fpn = detector()
    budget = cost(fpn, args.res)['gflops']
    archs: Dict[str, dict] = {'fpn': fpn}
    pafpn = detector()
    pafpn['neck']['type'] = 'PAFPN'
    archs['pafpn'] = pafpn
    num_cells = 2 * (len(IN_CHANNELS) - 1)
    genotypes: Dict[str, List[List[str]]] = {}

    wanted = args.variants
    if wanted is None or 'searched' in wanted:
        if args.genotype:
            from mmfusenas.models.mutables import Genotype
            geno = Genotype.load(args.genotype)
            print(f'genotype from {args.genotype}')
        else:
            t0 = time.perf_counter()
            geno = search(train, args)
            print(f'search: {args.search_iters} iters ({args.strategy}, '
                  f'alpha every {args.arch_interval}) at width '
                  f'{args.search_width} in {time.perf_counter() - t0:.0f} s',
                  flush=True)
            if args.genotype_out:
                geno.dump(args.genotype_out)
                print(f'genotype written to {args.genotype_out}')
        genotypes['searched'] = [list(c) for c in geno.network['ops']]
    rng = np.random.default_rng(args.random_seed)
    for k in range(args.random):
        ops = random_ops(rng, num_cells, args.num_nodes)
        if wanted is None or f'random{k}' in wanted:
            genotypes[f'random{k}'] = ops
    widths = {}
    for name, ops in genotypes.items():
        widths[name] = match_width(ops, args, budget)
        archs[name] = detector(fixed_neck(ops, widths[name], args.num_nodes))
    if wanted is not None:
        archs = {k: v for k, v in archs.items() if k in wanted}

    costs, rows = cost_and_train(archs, run_one, root, args)
    tmp.cleanup()

    print(f'\nRetinaNet R18/4 from scratch on [IR, Y, max(IR, Y)], '
          f'{args.iters} iters x {args.batch} at {args.res}px, seeds '
          f'{args.seeds}; distillation necks: {args.num_nodes} nodes/cell, '
          f'{num_cells} cells, width = largest of {args.widths} within FPN '
          f'FLOPs ({budget:.3f} G)')
    summary = summarise(rows, list(archs), 'mAP', ['AP50'], costs,
                        {k: widths.get(k, 64) for k in archs}, args.seeds,
                        'neck')
    if 'searched' in genotypes:
        print('searched genotype (cells: 3 top-down, 3 bottom-up):')
        for c, ops in enumerate(genotypes['searched']):
            print(f'  cell{c}: {ops}')
    print(f'total {time.perf_counter() - t_start:.0f} s')
    result = dict(summary=summary, genotypes=genotypes, args=vars(args))
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump(dict(result, rows=rows), f, indent=2)
    print('RESULT ' + json.dumps(
        {k: dict(mAP=round(v['mAP'], 4), std=round(v['std'], 4),
                 gflops=round(v['gflops'], 4), width=v['width'])
         for k, v in summary.items()}))


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    main()
