"""DCNAS search quality on the toy supernet: predictor ranking (RankNet vs
L1 / L2) and constrained evolution vs random search; cost of the best path
against its budget.

Usage::

    python benchmarks/bench_dcnas_search.py \
        [--config configs/dcnas/supernet_toy_x4.py] \
        [--checkpoint work_dirs/dcnas_toy_x4/iter_300.pth] \
        [--paths 120] [--heldout 40] [--seeds 3] [--budget 3e5] \
        [--population 8] [--generations 5]

Needs a trained toy supernet (``python tools/train.py
configs/dcnas/supernet_toy_x4.py``).

1. **Predictor**: ``--paths`` uniform random paths are scored by their L1
   loss on the toy validation set with supernet weights. A BGRU predictor
   is trained on the same ``paths - heldout`` paths with each loss
   (official schedule: 100 epochs, batch 16, Adam 1e-3) for ``--seeds``
   seeds and evaluated on the ``--heldout`` paths: Kendall τ and Spearman ρ
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

Ends with ``RESULT {json}``.
"""
import argparse
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
from mmfusenas.models.mutables import (encode_choices,  # noqa: E402
                                       one_shot_space, random_choices)
from mmfusenas.search.estimators import (PathCostTable,  # noqa: E402
                                         count_flops, count_params,
                                         measure_latency)
from mmfusenas.search.loops import EvolutionSearcher  # noqa: E402
from mmfusenas.search.predictors import (BGRUPredictor,  # noqa: E402
                                         kendall_tau, predict_scores,
                                         spearman_rho, train_predictor)
from mmfusenas.search.strategies import path_loss  # noqa: E402
from mmfusenas.search.strategies.path_samplers import unwrap  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='configs/dcnas/supernet_toy_x4.py')
    p.add_argument('--checkpoint',
                   default='work_dirs/dcnas_toy_x4/iter_300.pth')
    p.add_argument('--paths', type=int, default=120)
    p.add_argument('--heldout', type=int, default=40)
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--budget', type=float, default=3e5)
    p.add_argument('--population', type=int, default=8)
    p.add_argument('--generations', type=int, default=5)
    args = p.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'{args.checkpoint} not found: train the toy supernet first '
            '(python tools/train.py configs/dcnas/supernet_toy_x4.py)')
    torch.manual_seed(0)
    cfg = Config.fromfile(args.config)
    cfg.work_dir = 'work_dirs/bench_dcnas_search'
    for k in ('train_cfg', 'train_dataloader', 'optim_wrapper',
              'param_scheduler'):
        cfg[k] = None
    runner = Runner.from_cfg(cfg)
    runner.load_checkpoint(args.checkpoint)
    model = unwrap(runner.model)
    space = one_shot_space(model)
    batches = list(runner.val_dataloader)
    score = (lambda path: path_loss(model, path, batches))

    # 1. predictor ranking
    t0 = time.time()
    rng = random.Random(0)
    paths = [random_choices(space, rng) for _ in range(args.paths)]
    labels = np.array([score(x) for x in paths])
    codes = np.array([encode_choices(space, x) for x in paths])
    t_score = time.time() - t0
    ntr = args.paths - args.heldout
    pred_rows = {}
    for loss in ('ranknet', 'l1', 'l2'):
        taus, rhos = [], []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            pred = BGRUPredictor(space)
            train_predictor(pred, codes[:ntr], labels[:ntr], loss, 100, 16,
                            1e-3, seed)
            est = predict_scores(pred, codes[ntr:])
            taus.append(kendall_tau(est, labels[ntr:]))
            rhos.append(spearman_rho(est, labels[ntr:]))
        pred_rows[loss] = dict(
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

    # 2. evolution vs random under a params budget
    net_cfg = cfg.model.network
    table = PathCostTable(
        dict(type='DCNASCostModel', num_features=net_cfg.num_features,
             num_blocks=net_cfg.num_blocks, input_size=(64, 64)),
        cache_file='work_dirs/bench_dcnas_search/costs.json',
        measure_latency=False)
    budgets = dict(params=args.budget)
    cheapest = table.check_budgets(budgets)
    search_rows = []
    for seed in range(args.seeds):
        evo = EvolutionSearcher(
            space, score, table.cost, budgets,
            population_size=args.population, top_k=3, num_mutation=3,
            num_crossover=3, max_iters=args.generations, seed=seed,
            canonical_fn=DCNASNet.canonical_path)
        top = evo.run()
        n = len(evo.scores)
        r = EvolutionSearcher(space, score, table.cost, budgets, seed=seed +
                              100, canonical_fn=DCNASNet.canonical_path)
        legal = []
        r.random_legal(n, legal)
        rscores = sorted(score(x) for x in legal)
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
          f'cheapest legal path {cheapest["params"]:,.0f}; score = toy '
          'validation L1 with supernet weights, lower is better)')
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
    result = dict(predictor=pred_rows, search=search_rows,
                  budget=args.budget, paths=args.paths)
    print('RESULT ' + json.dumps(result))
    return result


if __name__ == '__main__':
    main()
