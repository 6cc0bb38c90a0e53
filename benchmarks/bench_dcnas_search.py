"""DCNAS search quality on the toy supernet: predictor ranking (RankNet vs
L1 / L2) and constrained evolution vs random search; cost of the best path
against its budget.

Usage::

    python benchmarks/bench_dcnas_search.py \
        [--config configs/dcnas/supernet_toy_x4.py] \
        [--checkpoint work_dirs/dcnas_toy_x4/iter_300.pth] \
        [--score-root data/toy_rgbd/search_val] [--images 32] \
        [--paths 120] [--heldout 40] [--seeds 3] \
        [--label-norms none standardize] [--budget 3e5] \
        [--population 8] [--generations 5] \
        [--skip-predictor] [--skip-search] \
        [--search-seeds S ...] [--no-random-search] \
        [--out-dir work_dirs/bench_dcnas_search]

Needs a trained toy supernet (``python tools/train.py
configs/dcnas/supernet_toy_x4.py``) and the toy data with its
``search_val`` split (``python tools/misc/make_toy_rgbd.py data/toy_rgbd``).

The **score** of a path everywhere is its mean L1 loss (normalised, masked)
with supernet weights on the first ``--images`` images of
``--score-root`` (default: the toy ``search_val`` split, 32 images; the
4-image ``val`` split gave labels too noisy to rank paths, see
``benchmarks/bench_dcnas_score_noise.py`` and docs/dcnas.md).

1. **Predictor**: ``--paths`` uniform random paths are scored. A BGRU predictor
   is trained on the same ``paths - heldout`` paths with each loss
   (official schedule: 100 epochs, batch 16, Adam 1e-3) for ``--seeds``
   seeds (per ``--label-norms``: raw labels, the official form, and / or
   standardised ones) and evaluated on the ``--heldout`` paths: Kendall τ
   and Spearman ρ
   between predicted and measured scores (the paper's claim: ranking loss
   ranks better).
2. **Search**: under ``params <= --budget`` (LUT), the evolution
   (``--population`` x ``--generations``, top-k 3, 3 mutations, 3
   crossovers, p=0.2) and a random search scoring the same number of legal
   random paths, with the same score (validation L1 with supernet
   weights, lower is better); best and mean of top-3, per seed. Both
   count functionally identical paths once (``DCNASNet.canonical_path``).
3. **Cost** of each seed's best path: LUT params / FLOPs and the measured
   params, FLOPs and CPU latency of the built fixed network at 64x64.
4. **Winners** of each seed (evolution and random search) are written to
   ``--out-dir`` as genotypes ``seed{s}_{evolution,random_search}.yaml``:
   retrain each from scratch and test it on data the search never saw
   with ``bench_dcnas_retrain.py --genotype FILE --no-baseline``.

Ends with ``RESULT {json}``.
"""
import argparse
import itertools
import json
import os.path as osp
import random
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmfusenas.models.gisr import DCNASNet  # noqa: E402
from mmfusenas.models.mutables import (Genotype,  # noqa: E402
                                       encode_choices, one_shot_space,
                                       random_choices)
from mmfusenas.search.estimators import (PathCostTable,  # noqa: E402
                                         count_flops, count_params,
                                         measure_latency)
from mmfusenas.search.loops import EvolutionSearcher  # noqa: E402
from mmfusenas.search.predictors import (BGRUPredictor,  # noqa: E402
                                         kendall_tau, predict_scores,
                                         spearman_rho, train_predictor)
from mmfusenas.search.strategies import path_loss  # noqa: E402
from mmfusenas.search.strategies.path_samplers import unwrap  # noqa: E402


def scoring_runner(config, work_dir, data_root, batch_size):
    """A runner of the supernet ``config`` (no training parts) whose
    ``val_dataloader`` reads ``data_root`` in batches of ``batch_size``.
    """
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    for k in ('train_cfg', 'train_dataloader', 'optim_wrapper',
              'param_scheduler'):
        cfg[k] = None
    cfg.val_dataloader.dataset.data_root = data_root
    cfg.val_dataloader.batch_size = batch_size
    return cfg, Runner.from_cfg(cfg)


def toy_cost_table(net_cfg):
    """The LUT of the toy supernet's space at 64 x 64 (params, FLOPs)."""
    return PathCostTable(
        dict(type='DCNASCostModel', num_features=net_cfg.num_features,
             num_blocks=net_cfg.num_blocks, input_size=(64, 64)),
        cache_file='work_dirs/bench_dcnas_search/costs.json',
        measure_latency=False)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='configs/dcnas/supernet_toy_x4.py')
    p.add_argument('--checkpoint',
                   default='work_dirs/dcnas_toy_x4/iter_300.pth')
    p.add_argument('--score-root', default='data/toy_rgbd/search_val',
                   help='images a path is scored on (never the test data)')
    p.add_argument('--images', type=int, default=32,
                   help='score = mean loss over this many images')
    p.add_argument('--skip-predictor', action='store_true')
    p.add_argument('--skip-search', action='store_true')
    p.add_argument('--out-dir', default='work_dirs/bench_dcnas_search',
                   help='each seed\'s evolution / random-search winner is '
                   'written here as a genotype (seed{s}_{kind}.yaml)')
    p.add_argument('--paths', type=int, default=120)
    p.add_argument('--heldout', type=int, default=40)
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--label-norms', nargs='+', default=['none'],
                   choices=['none', 'standardize'],
                   help='predictor label normalisations to compare (the '
                   'label_norm of train_predictor; none: raw labels, the '
                   'official form)')
    p.add_argument('--search-seeds', type=int, nargs='+', default=None,
                   help='run the search for these seeds only (default: '
                   'range(--seeds)); lets seeds run as separate processes')
    p.add_argument('--no-random-search', action='store_true',
                   help='only the evolution (its winners for '
                   'bench_dcnas_control.py); no random-search baseline')
    p.add_argument('--budget', type=float, default=3e5)
    p.add_argument('--population', type=int, default=8)
    p.add_argument('--generations', type=int, default=5)
    args = p.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'{args.checkpoint} not found: train the toy supernet first '
            '(python tools/train.py configs/dcnas/supernet_toy_x4.py)')
    if not osp.isdir(args.score_root):
        raise FileNotFoundError(
            f'--score-root {args.score_root} not found: python '
            'tools/misc/make_toy_rgbd.py data/toy_rgbd (writes search_val/)')
    torch.manual_seed(0)
    # one batched forward per path: the toy images have one size and no
    # invalid pixels, so the batch's masked L1 is the mean of the images'
    cfg, runner = scoring_runner(args.config, 'work_dirs/bench_dcnas_search',
                                 args.score_root, args.images)
    runner.load_checkpoint(args.checkpoint)
    model = unwrap(runner.model)
    space = one_shot_space(model)
    batches = [next(iter(runner.val_dataloader))]
    num_images = len(batches[0]['data_samples']['gt'])
    if num_images < args.images:
        raise ValueError(f'--score-root {args.score_root} has {num_images} '
                         f'images, fewer than --images {args.images}')
    score = (lambda path: path_loss(model, path, batches))
    pred_rows = {}
    if not args.skip_predictor:
        pred_rows = bench_predictor(args, space, score)
    search_rows, genotypes = [], []
    if not args.skip_search:
        search_rows, genotypes = bench_search(args, cfg, space, score)
    result = dict(predictor=pred_rows, search=search_rows,
                  budget=args.budget, paths=args.paths,
                  checkpoint=args.checkpoint, score_root=args.score_root,
                  images=num_images)
    print('RESULT ' + json.dumps(result))
    return result


def bench_predictor(args, space, score):
    """Part 1: Kendall τ / Spearman ρ of each predictor loss."""
    t0 = time.time()
    rng = random.Random(0)
    paths = [random_choices(space, rng) for _ in range(args.paths)]
    labels = np.array([score(x) for x in paths])
    codes = np.array([encode_choices(space, x) for x in paths])
    t_score = time.time() - t0
    ntr = args.paths - args.heldout
    pred_rows = {}
    for loss, norm in itertools.product(('ranknet', 'l1', 'l2'),
                                        args.label_norms):
        taus, rhos = [], []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            pred = BGRUPredictor(space)
            train_predictor(pred, codes[:ntr], labels[:ntr], loss, 100, 16,
                            1e-3, seed,
                            label_norm=None if norm == 'none' else norm)
            est = predict_scores(pred, codes[ntr:])
            taus.append(kendall_tau(est, labels[ntr:]))
            rhos.append(spearman_rho(est, labels[ntr:]))
        key = loss if norm == 'none' else f'{loss}/{norm}'
        pred_rows[key] = dict(
            kendall_tau=float(np.mean(taus)), kendall_std=float(np.std(taus)),
            spearman_rho=float(np.mean(rhos)),
            spearman_std=float(np.std(rhos)))
    print(f'\nPredictor ranking on {args.heldout} held-out paths '
          f'(trained on {ntr}; {args.seeds} seeds; scoring took '
          f'{t_score:.0f} s)')
    print('| loss | Kendall τ | Spearman ρ |\n|---|---|---|')
    for loss, r in pred_rows.items():
        print(f'| {loss} | {r["kendall_tau"]:.3f} ± {r["kendall_std"]:.3f} | '
              f'{r["spearman_rho"]:.3f} ± {r["spearman_std"]:.3f} |')
    return pred_rows


def bench_search(args, cfg, space, score):
    """Parts 2 and 3: evolution vs random search, cost of the winners."""
    net_cfg = cfg.model.network
    table = toy_cost_table(net_cfg)
    budgets = dict(params=args.budget)
    cheapest = table.check_budgets(budgets)
    search_rows, genotypes = [], []
    seeds = (args.search_seeds if args.search_seeds is not None else
             range(args.seeds))
    for seed in seeds:
        evo = EvolutionSearcher(
            space, score, table.cost, budgets,
            population_size=args.population, top_k=3, num_mutation=3,
            num_crossover=3, max_iters=args.generations, seed=seed,
            canonical_fn=DCNASNet.canonical_path)
        top = evo.run()
        n = len(evo.scores)
        if args.no_random_search:
            rscores = [float('nan')] * 3
            genotypes.append(dict(seed=seed, evolution=top[0][1]))
        else:
            r = EvolutionSearcher(space, score, table.cost, budgets,
                                  seed=seed + 100,
                                  canonical_fn=DCNASNet.canonical_path)
            legal = []
            r.random_legal(n, legal)
            rscored = sorted(((score(x), i) for i, x in enumerate(legal)))
            rscores = [s for s, _ in rscored]
            genotypes.append(dict(seed=seed, evolution=top[0][1],
                                  random_search=legal[rscored[0][1]]))
        best_path = top[0][1]
        net = DCNASNet(best_path, num_features=net_cfg.num_features).eval()
        x = (torch.rand(1, 1, 64, 64), torch.rand(1, 3, 64, 64))
        lut = table.cost(best_path)
        search_rows.append(dict(
            seed=seed, scored=n, evo_best=top[0][0],
            evo_top3=float(np.mean([s for s, _ in top[:3]])),
            random_best=rscores[0], random_top3=float(np.mean(rscores[:3])),
            lut_params=lut['params'], lut_flops=lut['flops'],
            params=count_params(net), flops=count_flops(net, x).flops,
            latency_ms=measure_latency(net, x, repeats=10,
                                       warmup=2).median_ms))
    print(f'\nEvolution vs random search (params <= {args.budget:,.0f}; '
          f'cheapest legal path {cheapest["params"]:,.0f}; score = mean '
          f'L1 with supernet weights on {args.images} images of '
          f'{args.score_root}, lower is better)')
    print('| seed | paths scored | evolution best | evolution top-3 | '
          'random best | random top-3 | params LUT / built | FLOPs LUT / '
          'built (64²) | CPU latency (64², ms) |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in search_rows:
        print(f'| {r["seed"]} | {r["scored"]} | {r["evo_best"]:.5f} | '
              f'{r["evo_top3"]:.5f} | {r["random_best"]:.5f} | '
              f'{r["random_top3"]:.5f} | {r["lut_params"]:,.0f} / '
              f'{r["params"]:,} | {r["lut_flops"] / 1e6:.1f}M / '
              f'{r["flops"] / 1e6:.1f}M | {r["latency_ms"]:.2f} |')
    if not args.no_random_search:
        wins = sum(r['evo_best'] < r['random_best'] for r in search_rows)
        print(f'evolution best < random best in {wins} / '
              f'{len(search_rows)} seeds')
    for g in genotypes:
        for kind in ('evolution', 'random_search'):
            if kind not in g:
                continue
            Genotype(choices=g[kind], network=dict(
                type='DCNASNet', num_features=net_cfg.num_features,
                arch=g[kind]), meta=dict(seed=g['seed'], kind=kind,
                                         budgets=budgets)).dump(
                osp.join(args.out_dir, f'seed{g["seed"]}_{kind}.yaml'))
    return search_rows, genotypes


if __name__ == '__main__':
    main()
