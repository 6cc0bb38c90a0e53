"""Retrained searched DCNAS model vs bicubic and a same-size hand-designed
network, trained on toy + RGB-D-D and evaluated on toy, Middlebury and Lu.

Usage::

    python benchmarks/bench_dcnas_retrain.py \
        [--genotype work_dirs/dcnas_toy_x4/search/best_genotype.yaml] \
        [--iters 500] [--batch 8] [--patch 64] [--scale 4] \
        [--device cpu] [--shared-data ../shared/data/gisr]

Both networks are trained from scratch with the same schedule (Adam 1e-3,
x0.5 at 80 %, masked L1 in the normalised space, leak-free LR min/max
normalisation, PIL bicubic x4) on the toy training split plus the 40
shared RGB-D-D pairs (random ``--patch`` crops, official flips /
transpose), then evaluated with each benchmark's RMSE convention: toy test
(``rgbdd`` preset: mm -> cm), Middlebury and Lu (8-bit levels, no crop).
The hand-designed baseline is a DCNAS fixed network with every block
``mb_k3_r{r}`` and ``cat`` fusion at every stage, ``r`` chosen so that its
parameter count is closest to the searched model's. Bicubic is the
de-normalised ``lr_up``. ``--device cuda`` trains and evaluates on the GPU
(the data pipeline stays on the CPU; the initial weights and the data
order are drawn on the CPU, so they equal the ``cpu`` run's of the same
seed, only the arithmetic differs); ``cpu`` (the default) is the
original code path. ``--shared-data`` is the folder holding
``RGBDD_subset40/``, ``Middlebury/`` and ``Lu/`` (default: the repository's
``../shared/data/gisr``). Ends with ``RESULT {json}``.
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

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: default folder of the shared GISR test / training sets, resolved from the
#: repository root (not the working directory)
SHARED = osp.normpath(osp.join(ROOT, '..', 'shared', 'data', 'gisr'))
SHARED_SETS = ('RGBDD_subset40', 'Middlebury', 'Lu')


def resolve_device(device):
    """``torch.device`` of ``device`` (``'cpu'`` / ``'cuda'`` /
    ``'cuda:N'``); a CUDA device without CUDA is an error naming the
    option."""
    dev = torch.device(device)
    if dev.type not in ('cpu', 'cuda'):
        raise ValueError(f'--device must be cpu or cuda[:N], got {device!r}')
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(f'--device {device}: CUDA is not available in '
                           f'this torch ({torch.__version__}); use --device '
                           'cpu')
    return dev


def check_data(toy, shared=SHARED):
    """Fail fast (before any training) when a data folder is missing."""
    for split in ('train', 'test'):
        d = osp.join(toy, split)
        if not osp.isdir(d):
            raise FileNotFoundError(
                f'toy data {d} not found: python tools/misc/make_toy_rgbd.py '
                f'{toy} --num-search-val 64 (or pass --toy)')
    for name in SHARED_SETS:
        d = osp.join(shared, name)
        if not osp.isdir(d):
            raise FileNotFoundError(
                f'shared GISR data {d} not found: --shared-data must be the '
                f'folder holding {", ".join(SHARED_SETS)} (default '
                f'{SHARED}, i.e. ../shared/data/gisr beside the repository)')


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
    """Adam ``lr``, x0.5 at 80 %; batches go to the model's device."""
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
        batch = model.data_preprocessor.cast_data(batch)
        loss = model(batch['inputs'], batch['data_samples'],
                     mode='loss')['loss']
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    if next(model.parameters()).is_cuda:
        torch.cuda.synchronize()
    return time.time() - t0


@torch.no_grad()
def evaluate(model, dataset, preset):
    model.eval()
    metric = GISRMetric(preset=preset, with_bicubic=True)
    for i in range(len(dataset)):
        batch = model.data_preprocessor.cast_data(
            default_collate([dataset[i]]))
        metric.process(batch, model(batch['inputs'], batch['data_samples'],
                                    mode='predict'))
    return metric.compute_metrics(metric.results)


def datasets(toy, scale=4, patch=64, shared=SHARED):
    """Training set (toy train + RGB-D-D) and the held-out test sets."""
    check_data(toy, shared)
    tr, te = pipelines(scale, patch)
    train_set = ConcatDataset([
        GISRDataset(osp.join(toy, 'train'), pipeline=tr),
        GISRDataset(osp.join(shared, 'RGBDD_subset40'), pipeline=tr)
    ])
    tests = dict(
        toy=(GISRDataset(osp.join(toy, 'test'), pipeline=te), 'rgbdd'),
        Middlebury=(GISRDataset(osp.join(shared, 'Middlebury'),
                                pipeline=te), 'middlebury'),
        Lu=(GISRDataset(osp.join(shared, 'Lu'), pipeline=te), 'lu'))
    return train_set, tests


def retrain_and_evaluate(net, toy='data/toy_rgbd', iters=500, batch=8,
                         patch=64, scale=4, lr=1e-3, seed=0, device='cpu',
                         shared=SHARED):
    """Train ``net`` from scratch (this benchmark's schedule) and evaluate
    it on the toy test split, Middlebury and Lu.

    Args:
        device (str | torch.device): where the network trains and runs
            (``'cpu'``, ``'cuda'``, ``'cuda:N'``). The initial weights (of
            ``net`` as given) and the data order / crops (CPU generators)
            do not depend on it.
        shared (str): folder with ``RGBDD_subset40``, ``Middlebury``, ``Lu``.

    Returns:
        dict: ``{'train_s', 'toy', 'Middlebury', 'Lu'}`` (metric dicts).
    """
    dev = resolve_device(device)
    train_set, tests = datasets(toy, scale, patch, shared)
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = GuidedDepthSR(net, loss_space='normalised').to(dev)
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
    p.add_argument('--device', default='cpu',
                   help='cpu (default) or cuda[:N]: where the networks train')
    p.add_argument('--shared-data', default=SHARED,
                   help='folder with RGBDD_subset40/, Middlebury/, Lu/ '
                   '(default: ../shared/data/gisr beside the repository)')
    p.add_argument('--no-baseline', action='store_true',
                   help='train only the genotype (no hand-designed network)')
    args = p.parse_args(argv)
    init_default_scope('mmfusenas')
    resolve_device(args.device)
    check_data(args.toy, args.shared_data)
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
            args.lr, seed=0, device=args.device, shared=args.shared_data))
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
