"""Retrained searched DCNAS model vs bicubic and a same-size hand-designed
network, trained on toy + RGB-D-D and evaluated on toy, Middlebury and Lu.

Usage::

    python benchmarks/bench_dcnas_retrain.py \
        [--genotype work_dirs/dcnas_toy_x4/search/best_genotype.yaml] \
        [--iters 500] [--batch 8] [--patch 64] [--scale 4]

Both networks are trained from scratch with the same schedule (Adam 1e-3,
x0.5 at 80 %, masked L1 in the normalised space, leak-free LR min/max
normalisation, PIL bicubic x4) on the toy training split plus the 40
shared RGB-D-D pairs (random ``--patch`` crops, official flips /
transpose), then evaluated with each benchmark's RMSE convention: toy test
(``rgbdd`` preset: mm -> cm), Middlebury and Lu (8-bit levels, no crop).
The hand-designed baseline is a DCNAS fixed network with every block
``mb_k3_r{r}`` and ``cat`` fusion at every stage, ``r`` chosen so that its
parameter count is closest to the searched model's. Bicubic is the
de-normalised ``lr_up``. Ends with ``RESULT {json}``.
"""
import argparse
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.dataset import ConcatDataset, default_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from mmfusenas.datasets import GISRDataset  # noqa: E402
from mmfusenas.evaluation import GISRMetric  # noqa: E402
from mmfusenas.models.gisr import (DCNASNet, GuidedDepthSR,  # noqa: E402
                                   dcnas_keys)
from mmfusenas.models.mutables import Genotype  # noqa: E402
from mmfusenas.search.estimators import count_params  # noqa: E402

SHARED = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '..',
                  'shared', 'data', 'gisr')


def pipelines(scale, patch):
    deg = dict(type='GISRDegrade', scale=scale, norm='lr_minmax')
    train = [
        dict(type='LoadGISRSample'),
        dict(type='GISRModCrop', multiple=32),
        dict(type='GISRRandomCrop', patch_size=patch),
        dict(type='GISRAugment'), deg,
        dict(type='PackGISRInputs')
    ]
    test = [
        dict(type='LoadGISRSample'),
        dict(type='GISRModCrop', multiple=32), deg,
        dict(type='PackGISRInputs')
    ]
    return train, test


def baseline_arch(target_params, num_features):
    best = None
    for r in range(2, 7):
        arch = {k: (f'mb_k3_r{r}' if not k.startswith('fusion') else 'cat')
                for k in dcnas_keys(4, 2)}
        n = count_params(DCNASNet(arch, num_features=num_features))
        if best is None or abs(n - target_params) < abs(best[1] -
                                                        target_params):
            best = (arch, n, r)
    return best


def train(model, loader, iters, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(0.8 * iters)],
                                                 0.5)
    it = iter(loader)
    model.train()
    t0 = time.time()
    for i in range(iters):
        try:
            batch = next(it)
        except StopIteration:
            it = iter(loader)
            batch = next(it)
        loss = model(batch['inputs'], batch['data_samples'],
                     mode='loss')['loss']
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return time.time() - t0


@torch.no_grad()
def evaluate(model, dataset, preset):
    model.eval()
    metric = GISRMetric(preset=preset, with_bicubic=True)
    for i in range(len(dataset)):
        batch = default_collate([dataset[i]])
        metric.process(batch, model(batch['inputs'], batch['data_samples'],
                                    mode='predict'))
    return metric.compute_metrics(metric.results)


def datasets(toy, scale=4, patch=64):
    """Training set (toy train + RGB-D-D) and the held-out test sets."""
    tr, te = pipelines(scale, patch)
    train_set = ConcatDataset([
        GISRDataset(osp.join(toy, 'train'), pipeline=tr),
        GISRDataset(osp.join(SHARED, 'RGBDD_subset40'), pipeline=tr)
    ])
    tests = dict(
        toy=(GISRDataset(osp.join(toy, 'test'), pipeline=te), 'rgbdd'),
        Middlebury=(GISRDataset(osp.join(SHARED, 'Middlebury'),
                                pipeline=te), 'middlebury'),
        Lu=(GISRDataset(osp.join(SHARED, 'Lu'), pipeline=te), 'lu'))
    return train_set, tests


def retrain_and_evaluate(net, toy='data/toy_rgbd', iters=500, batch=8,
                         patch=64, scale=4, lr=1e-3, seed=0):
    """Train ``net`` from scratch (this benchmark's schedule) and evaluate
    it on the toy test split, Middlebury and Lu.

    Returns:
        dict: ``{'train_s', 'toy', 'Middlebury', 'Lu'}`` (metric dicts).
    """
    train_set, tests = datasets(toy, scale, patch)
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = GuidedDepthSR(net, loss_space='normalised')
    loader = DataLoader(train_set, batch, shuffle=True,
                        collate_fn=default_collate, drop_last=True)
    secs = train(model, loader, iters, lr)
    return dict(train_s=round(secs),
                **{k: evaluate(model, ds, pre)
                   for k, (ds, pre) in tests.items()})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--genotype',
                   default='work_dirs/dcnas_toy_x4/search/best_genotype.yaml')
    p.add_argument('--toy', default='data/toy_rgbd')
    p.add_argument('--iters', type=int, default=500)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--patch', type=int, default=64)
    p.add_argument('--scale', type=int, default=4)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--no-baseline', action='store_true',
                   help='train only the genotype (no hand-designed network)')
    args = p.parse_args(argv)
    init_default_scope('mmfusenas')
    geno = Genotype.load(args.genotype)
    c = geno.network.get('num_features', 16)
    searched = DCNASNet(geno.choices, num_features=c)
    n_s = count_params(searched)
    arch, n_b, r = baseline_arch(n_s, c)
    rows = {}
    models = [('searched', searched)]
    if not args.no_baseline:
        models.append((f'hand-designed (all mb_k3_r{r} + cat)',
                       DCNASNet(arch, num_features=c)))
    for name, net in models:
        rows[name] = dict(params=count_params(net), **retrain_and_evaluate(
            net, args.toy, args.iters, args.batch, args.patch, args.scale,
            args.lr, seed=0))
    print(f'\nx{args.scale} guided depth SR, trained {args.iters} iterations '
          f'(batch {args.batch}, {args.patch}² patches) on toy + RGB-D-D')
    print('| model | params | toy RMSE (cm) | Middlebury RMSE (levels) | '
          'Lu RMSE (levels) |\n|---|---|---|---|---|')
    first = next(iter(rows.values()))
    print(f'| bicubic | 0 | {first["toy"]["bicubic_RMSE"]:.3f} | '
          f'{first["Middlebury"]["bicubic_RMSE"]:.3f} | '
          f'{first["Lu"]["bicubic_RMSE"]:.3f} |')
    for name, r_ in rows.items():
        print(f'| {name} | {r_["params"]:,} | {r_["toy"]["RMSE"]:.3f} | '
              f'{r_["Middlebury"]["RMSE"]:.3f} | {r_["Lu"]["RMSE"]:.3f} |')
    result = dict(iters=args.iters, scale=args.scale, models=rows)
    print('RESULT ' + json.dumps(result))
    return result


if __name__ == '__main__':
    main()
