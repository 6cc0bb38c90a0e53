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
        [--population 8] [--generations 5] [--top-k 3] \
        [--num-mutation 3] [--num-crossover 3] [--mutate-probs 0.2 ...] \
        [--pool 0] [--holdout] [--no-cache] \
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
   (``--population`` x ``--generations``, ``--top-k``, ``--num-mutation``
   mutations, ``--num-crossover`` crossovers, per-gene mutation
   probability p of each ``--mutate-probs`` variant) and a random search
   scoring the same number of legal random paths, with the same score
   (validation L1 with supernet weights, lower is better); best and mean
   of top-3, per seed. Both count functionally identical paths once
   (``DCNASNet.canonical_path``). Diagnostics per run: the paths scored by
   origin (mutation / crossover / random fill) with their mean score, the
   proposals rejected as already scored (duplicates) or over budget.
   ``--init-predictor N``: the predictor-guided variant at the same
   budget (N scored random paths train a RankNet BGRU, standardised
   labels; they count as the evolution's scored paths; its first
   generation is the predictor's best ``--population`` of ``--init-pool``
   random legal paths, official ``--init_arch``).
   ``--pool N`` scores N further random legal paths (their own seed) as
   the reference distribution of the legal space: each winner's
   percentile in it and **P(win)** = the probability that the winner
   beats the best of an independent random search of the same number of
   paths, ``F_worse ** n`` (``F_worse``: the fraction of the pool scoring
   worse). ``--holdout`` also scores each winner on the next ``--images``
   images of ``--score-root`` (images the search never saw).
   Scores are cached per (checkpoint, score root, images) in
   ``--out-dir`` (``score_cache_*.json``, keyed by the canonical path), so
   variants and reruns reuse them (``--no-cache``: off).
3. **Cost** of each seed's best path: LUT params / FLOPs and the measured
   params, FLOPs and CPU latency of the built fixed network at 64x64.
4. **Winners** of each seed (evolution and random search) are written to
   ``--out-dir`` as genotypes ``seed{s}_{evolution,random_search}.yaml``:
   retrain each from scratch and test it on data the search never saw
   with ``bench_dcnas_retrain.py --genotype FILE --no-baseline``.

Ends with ``RESULT {json}``.
"""
import argparse
import hashlib
import itertools
import json
import os
import os.path as osp
import random
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmfusenas.engine.runner import EvolutionSearcher  # noqa: E402
from mmfusenas.models.gisr import DCNASNet  # noqa: E402
from mmfusenas.models.mutables import (Genotype,  # noqa: E402
                                       encode_choices, one_shot_space,
                                       random_choices)
from mmfusenas.search.estimators import (PathCostTable,  # noqa: E402
                                         count_flops, count_params,
                                         measure_latency)
from mmfusenas.search.predictors import (BGRUPredictor,  # noqa: E402
                                         kendall_tau, predict_scores,
                                         spearman_rho, train_predictor)
from mmfusenas.search.strategies import path_loss  # noqa: E402
from mmfusenas.search.strategies.path_samplers import unwrap  # noqa: E402
from mmfusenas.utils.fileio import atomic_write  # noqa: E402

#: seed of the ``--pool`` draws (independent of every search seed)
POOL_SEED = 10_000


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


class ScoreCache:
    """Scores of paths by canonical key, kept in a JSON file.

    The file is tied to what a score means: ``ident`` (checkpoint file,
    its size and mtime, score root, number of images); a cache of another
    ident is an error naming both. Written atomically every ``every`` new
    scores and by :meth:`flush`.

    Args:
        score_fn (Callable[[Path], float]): the uncached score.
        key_fn (Callable[[Path], str]): canonical key of a path.
        file (str, optional): JSON file; None keeps the cache in memory.
        ident (dict): what the scores depend on.
        every (int): flush after this many new scores. Defaults to 20.
    """

    def __init__(self, score_fn, key_fn, file=None, ident=None, every=20):
        self.score_fn, self.key_fn = score_fn, key_fn
        self.file, self.ident, self.every = file, dict(ident or {}), every
        self.scores, self.new, self.hits = {}, 0, 0
        if file and osp.isfile(file):
            with open(file) as f:
                data = json.load(f)
            if data.get('ident') != self.ident:
                raise ValueError(f'score cache {file} holds scores of '
                                 f'{data.get("ident")}, not of {self.ident}:'
                                 ' delete it or pass --no-cache')
            self.scores = {k: float(v) for k, v in data['scores'].items()}

    def __call__(self, path):
        key = self.key_fn(path)
        if key in self.scores:
            self.hits += 1
            return self.scores[key]
        value = float(self.score_fn(path))
        if not np.isfinite(value):
            raise FloatingPointError(f'non-finite score {value} of {key}')
        self.scores[key] = value
        self.new += 1
        if self.new % self.every == 0:
            self.flush()
        return value

    def flush(self):
        if self.file:
            atomic_write(json.dumps(dict(ident=self.ident,
                                         scores=self.scores)), self.file)


def cache_file(out_dir, checkpoint, score_root, images):
    """The cache file of one score definition and its ident."""
    st = os.stat(checkpoint)
    ident = dict(checkpoint=osp.abspath(checkpoint), size=st.st_size,
                 mtime=int(st.st_mtime), score_root=osp.abspath(score_root),
                 images=images)
    h = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()
    return osp.join(out_dir, f'score_cache_{h[:10]}.json'), ident


def slice_batch(batch, start, stop):
    """Images ``start:stop`` of a collated GISR batch (tensors and lists
    sliced along the batch, nested dicts followed)."""
    if isinstance(batch, dict):
        return {k: slice_batch(v, start, stop) for k, v in batch.items()}
    if isinstance(batch, (torch.Tensor, list, tuple)):
        return batch[start:stop]
    return batch


def p_win(best, pool, n):
    """Probability that ``best`` (lower is better) beats the best of ``n``
    paths drawn from the distribution ``pool`` (ties count half, per draw):
    ``(F_worse + F_tie / 2) ** n``."""
    pool = np.asarray(pool, float)
    if pool.size == 0 or n <= 0:
        return float('nan')
    worse = np.mean(pool > best) + 0.5 * np.mean(pool == best)
    return float(worse ** n)


def percentile_better(best, pool):
    """Percent of ``pool`` scoring worse than ``best`` (ties half)."""
    pool = np.asarray(pool, float)
    return float(100.0 * (np.mean(pool > best) + 0.5 * np.mean(pool == best)))


def instrument(searcher):
    """Record where each proposal of ``searcher`` came from and why
    rejected ones were: returns ``stats`` with ``origin`` (canonical key ->
    'mutation' / 'crossover'; other scored keys are random fills) and the
    counters ``proposed`` / ``duplicate`` / ``over_budget`` per origin."""
    stats = dict(origin={}, proposed={}, duplicate={}, over_budget={})
    current = dict(kind='random')
    legal = searcher.legal

    def tagged(fn, kind):
        def make():
            path = fn()
            current['kind'] = kind
            return path
        return make

    def legal_counted(path):
        kind = current['kind']
        key = searcher.key(path)
        stats['proposed'][kind] = stats['proposed'].get(kind, 0) + 1
        if key in searcher.scores:
            stats['duplicate'][kind] = stats['duplicate'].get(kind, 0) + 1
            ok = False
        else:
            ok = legal(path)
            if not ok:
                stats['over_budget'][kind] = stats['over_budget'].get(
                    kind, 0) + 1
        if ok and kind != 'random':
            stats['origin'][key] = kind
        return ok

    random_legal = searcher.random_legal

    def random_tagged(n, out):
        current['kind'] = 'random'
        return random_legal(n, out)

    searcher.mutate = tagged(searcher.mutate, 'mutation')
    searcher.crossover = tagged(searcher.crossover, 'crossover')
    searcher.random_legal = random_tagged
    searcher.legal = legal_counted
    return stats


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
    p.add_argument('--top-k', type=int, default=3)
    p.add_argument('--num-mutation', type=int, default=3)
    p.add_argument('--num-crossover', type=int, default=3)
    p.add_argument('--mutate-probs', type=float, nargs='+', default=[0.2],
                   help='per-gene mutation probabilities: one evolution '
                   'variant each (same seeds, same random-search baseline)')
    p.add_argument('--init-predictor', type=int, default=0,
                   help='predictor-guided first generation: score this many '
                   'random legal paths (counted in the evolution\'s budget), '
                   'train a RankNet BGRU on them, start from its best '
                   '--population of --init-pool random legal paths')
    p.add_argument('--init-pool', type=int, default=1000)
    p.add_argument('--pool', type=int, default=0,
                   help='score this many further random legal paths as the '
                   'reference distribution (percentiles, P(win))')
    p.add_argument('--holdout', action='store_true',
                   help='also score each winner on the next --images images '
                   'of --score-root (never seen by the search)')
    p.add_argument('--no-cache', action='store_true',
                   help='do not read / write the score cache')
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
    need = args.images * (2 if args.holdout else 1)
    cfg, runner = scoring_runner(args.config, 'work_dirs/bench_dcnas_search',
                                 args.score_root, need)
    runner.load_checkpoint(args.checkpoint)
    model = unwrap(runner.model)
    space = one_shot_space(model)
    full = next(iter(runner.val_dataloader))
    num_images = len(full['data_samples']['gt'])
    if num_images < need:
        raise ValueError(f'--score-root {args.score_root} has {num_images} '
                         f'images, fewer than the {need} needed (--images '
                         f'{args.images}' +
                         (' x 2 for --holdout)' if args.holdout else ')'))
    batches = [slice_batch(full, 0, args.images)]
    held = [slice_batch(full, args.images, need)] if args.holdout else None
    keyer = EvolutionSearcher(space, lambda p: 0.0,
                              canonical_fn=DCNASNet.canonical_path)
    os.makedirs(args.out_dir, exist_ok=True)
    file, ident = cache_file(args.out_dir, args.checkpoint, args.score_root,
                             args.images)
    score = ScoreCache(lambda path: path_loss(model, path, batches),
                       keyer.key, None if args.no_cache else file, ident)
    held_score = None
    if held is not None:
        hfile, hident = cache_file(args.out_dir, args.checkpoint,
                                   args.score_root, f'{args.images}:{need}')
        held_score = ScoreCache(lambda path: path_loss(model, path, held),
                                keyer.key,
                                None if args.no_cache else hfile, hident)
    pred_rows = {}
    if not args.skip_predictor:
        pred_rows = bench_predictor(args, space, score)
    search_rows, genotypes, pool = [], [], None
    if not args.skip_search:
        search_rows, genotypes, pool = bench_search(args, cfg, space, score,
                                                    held_score)
    score.flush()
    if held_score is not None:
        held_score.flush()
    result = dict(predictor=pred_rows, search=search_rows,
                  budget=args.budget, paths=args.paths,
                  checkpoint=args.checkpoint, score_root=args.score_root,
                  images=args.images, pool=pool,
                  cache=dict(new=score.new, hits=score.hits))
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


def bench_search(args, cfg, space, score, held_score=None):
    """Parts 2 and 3: evolution (one run per ``--mutate-probs`` variant and
    seed) vs random search, diagnostics, cost of the winners.

    Returns:
        tuple: (rows, genotypes, pool summary or None).
    """
    net_cfg = cfg.model.network
    table = toy_cost_table(net_cfg)
    budgets = dict(params=args.budget)
    cheapest = table.check_budgets(budgets)
    canon = DCNASNet.canonical_path
    seeds = (args.search_seeds if args.search_seeds is not None else
             range(args.seeds))
    pool, pool_info = [], None
    if args.pool:
        t0 = time.time()
        probe = EvolutionSearcher(space, score, table.cost, budgets,
                                  seed=POOL_SEED, max_tries_factor=100,
                                  canonical_fn=canon)
        paths = []
        probe.random_legal(args.pool, paths)
        pool = [score(x) for x in paths]
        q = np.quantile(pool, [0.0, 0.01, 0.025, 0.05, 0.1, 0.5])
        pool_info = dict(n=len(pool), mean=float(np.mean(pool)),
                         std=float(np.std(pool)),
                         quantiles=dict(zip(
                             ('min', 'q01', 'q025', 'q05', 'q10', 'median'),
                             map(float, q))), seconds=round(time.time() - t0))
    search_rows, genotypes = [], []
    x = (torch.rand(1, 1, 64, 64), torch.rand(1, 3, 64, 64))
    for p_mut, seed in itertools.product(args.mutate_probs, seeds):
        evo = EvolutionSearcher(
            space, score, table.cost, budgets,
            population_size=args.population, top_k=args.top_k,
            num_mutation=args.num_mutation, num_crossover=args.num_crossover,
            mutate_prob=p_mut, max_iters=args.generations, seed=seed,
            canonical_fn=canon)
        stats = instrument(evo)
        if args.init_predictor:
            predictor_init(args, space, score, table.cost, budgets, seed,
                           evo)
        top = evo.run()
        n = len(evo.scores)
        by = dict(mutation=[], crossover=[], random=[])
        for k, v in evo.scores.items():
            by[stats['origin'].get(k, 'random')].append(v)
        row = dict(mutate_prob=p_mut, seed=seed, scored=n,
                   evo_best=top[0][0],
                   evo_top3=float(np.mean([s_ for s_, _ in top[:3]])),
                   origin={k: dict(n=len(v), mean=float(np.mean(v))
                                   if v else float('nan'))
                           for k, v in by.items()},
                   proposed=stats['proposed'], duplicate=stats['duplicate'],
                   over_budget=stats['over_budget'])
        g = dict(seed=seed, mutate_prob=p_mut, evolution=top[0][1])
        if args.no_random_search:
            row.update(random_best=float('nan'), random_top3=float('nan'))
        else:
            r = EvolutionSearcher(space, score, table.cost, budgets,
                                  seed=seed + 100, canonical_fn=canon)
            legal = []
            r.random_legal(n, legal)
            rscored = sorted(((score(p), i) for i, p in enumerate(legal)))
            row.update(random_best=rscored[0][0], random_top3=float(
                np.mean([s_ for s_, _ in rscored[:3]])))
            g['random_search'] = legal[rscored[0][1]]
        if pool:
            row.update(evo_pct=percentile_better(row['evo_best'], pool),
                       random_pct=percentile_better(row['random_best'], pool),
                       p_win=p_win(row['evo_best'], pool, n))
        if held_score is not None:
            row['evo_heldout'] = held_score(top[0][1])
            if 'random_search' in g:
                row['random_heldout'] = held_score(g['random_search'])
        best_path = top[0][1]
        net = DCNASNet(best_path, num_features=net_cfg.num_features).eval()
        lut = table.cost(best_path)
        row.update(lut_params=lut['params'], lut_flops=lut['flops'],
                   params=count_params(net), flops=count_flops(net, x).flops)
        if len(args.mutate_probs) == 1:  # latency of the (one) winner
            row['latency_ms'] = measure_latency(net, x, repeats=10,
                                                warmup=2).median_ms
        search_rows.append(row)
        genotypes.append(g)
    print_search(args, cheapest, search_rows, pool_info)
    for g in genotypes:
        tag = ('' if len(args.mutate_probs) == 1 else
               f'_p{g["mutate_prob"]:g}')
        for kind in ('evolution', 'random_search'):
            if kind not in g:
                continue
            Genotype(choices=g[kind], network=dict(
                type='DCNASNet', num_features=net_cfg.num_features,
                arch=g[kind]), meta=dict(seed=g['seed'], kind=kind,
                                         mutate_prob=g['mutate_prob'],
                                         budgets=budgets)).dump(
                osp.join(args.out_dir, f'seed{g["seed"]}_{kind}{tag}.yaml'))
    return search_rows, genotypes, pool_info


def predictor_init(args, space, score, cost_fn, budgets, seed, evo):
    """Predictor-guided first generation at the same scored-path budget:
    ``--init-predictor`` random legal paths are scored (they count as
    scored paths of the evolution: ``evo.scores`` holds them, so they are
    in its top-k and in the random search's equal budget), a BGRU RankNet
    predictor is trained on them (standardised labels, official schedule),
    and the evolution's first generation is the predictor's best
    ``--population`` of ``--init-pool`` further legal random paths
    (official ``--init_arch``)."""
    canon = DCNASNet.canonical_path
    draw = EvolutionSearcher(space, score, cost_fn, budgets, seed=seed + 200,
                             canonical_fn=canon, max_tries_factor=100)
    train = []
    draw.random_legal(args.init_predictor, train)
    labels = np.array([score(p) for p in train])
    torch.manual_seed(seed)
    pred = BGRUPredictor(space)
    train_predictor(pred, np.array([encode_choices(space, p) for p in train]),
                    labels, 'ranknet', 100, 16, 1e-3, seed,
                    label_norm='standardize')
    for p, y in zip(train, labels):
        evo.scores[evo.key(p)] = float(y)
    cands = []
    draw.scores = dict(evo.scores)  # exclude the training paths
    draw.random_legal(args.init_pool, cands)
    est = predict_scores(pred, [encode_choices(space, p) for p in cands])
    evo.init_population = [cands[i] for i in np.argsort(est)[:args.population]]


def print_search(args, cheapest, rows, pool_info):
    """The tables of part 2 / 3."""
    print(f'\nEvolution vs random search (params <= {args.budget:,.0f}; '
          f'cheapest legal path {cheapest["params"]:,.0f}; score = mean '
          f'L1 with supernet weights on {args.images} images of '
          f'{args.score_root}, lower is better; population '
          f'{args.population} x {args.generations} generations, top-k '
          f'{args.top_k}, {args.num_mutation} mutations + '
          f'{args.num_crossover} crossovers' +
          (f'; predictor-guided first generation from '
           f'{args.init_predictor} scored paths' if args.init_predictor
           else '') + ')')
    if pool_info:
        q = pool_info['quantiles']
        print(f'reference: {pool_info["n"]} random legal paths, mean '
              f'{pool_info["mean"]:.5f} ± {pool_info["std"]:.5f}, min '
              f'{q["min"]:.5f}, 1 % {q["q01"]:.5f}, 2.5 % {q["q025"]:.5f}, '
              f'5 % {q["q05"]:.5f}, median {q["median"]:.5f} '
              f'({pool_info["seconds"]} s)')
    print('| p | seed | paths scored | evolution best | random best | '
          'better than % of pool (evo / random) | P(win) | held-out '
          '(evo / random) | mean score by origin (mut / cross / random: n) '
          '| rejected dup / over budget (mut / cross) |')
    print('|---' * 10 + '|')
    nan = float('nan')
    for r in rows:
        o = r['origin']
        print(f'| {r["mutate_prob"]:g} | {r["seed"]} | {r["scored"]} | '
              f'{r["evo_best"]:.5f} | {r["random_best"]:.5f} | '
              f'{r.get("evo_pct", nan):.1f} / {r.get("random_pct", nan):.1f}'
              f' | {r.get("p_win", nan):.2f} | '
              f'{r.get("evo_heldout", nan):.5f} / '
              f'{r.get("random_heldout", nan):.5f} | ' + ' / '.join(
                  f'{o[k]["mean"]:.5f}: {o[k]["n"]}'
                  for k in ('mutation', 'crossover', 'random')) + ' | ' +
              ' / '.join(f'{r["duplicate"].get(k, 0)}, '
                         f'{r["over_budget"].get(k, 0)} of '
                         f'{r["proposed"].get(k, 0)}'
                         for k in ('mutation', 'crossover')) + ' |')
    print('\n| p | seed | params LUT / built | FLOPs LUT / built (64²) | '
          'CPU latency (64², ms) |\n|---|---|---|---|---|')
    for r in rows:
        print(f'| {r["mutate_prob"]:g} | {r["seed"]} | '
              f'{r["lut_params"]:,.0f} / {r["params"]:,} | '
              f'{r["lut_flops"] / 1e6:.1f}M / {r["flops"] / 1e6:.1f}M | '
              f'{r.get("latency_ms", nan):.2f} |')
    if not args.no_random_search:
        for p_mut in args.mutate_probs:
            rs = [r for r in rows if r['mutate_prob'] == p_mut]
            wins = sum(r['evo_best'] < r['random_best'] for r in rs)
            line = (f'p = {p_mut:g}: evolution best < random best in '
                    f'{wins} / {len(rs)} seeds')
            if pool_info:
                pw = np.mean([r['p_win'] for r in rs])
                line += (f'; mean P(win) {pw:.2f}'
                         f', mean pool percentile (evo / random) '
                         f'{np.mean([r["evo_pct"] for r in rs]):.1f} / '
                         f'{np.mean([r["random_pct"] for r in rs]):.1f}')
            if 'evo_heldout' in rs[0]:
                hw = sum(r['evo_heldout'] < r['random_heldout'] for r in rs)
                line += f'; held-out: evolution better in {hw} / {len(rs)}'
            print(line)


if __name__ == '__main__':
    main()
