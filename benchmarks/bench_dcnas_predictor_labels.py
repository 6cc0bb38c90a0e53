"""Is the DCNAS predictor's failure (Kendall τ ≈ 0) a matter of the labels'
*spread*? A supernet-free test with a learnable synthetic label.

Usage::

    python benchmarks/bench_dcnas_predictor_labels.py \
        [--train 80] [--heldout 200] [--seeds 2] [--mean 0.0513] \
        [--spread 0.0006] [--noise 0.18] [--epochs 100]

The label of a path is a known function of its genes: the standardised
log of its parameter count (LUT of the toy space, C=8, B=2), plus Gaussian
noise (``--noise`` = noise / signal, 0.1-0.2 measured for 32-image scores
by ``bench_dcnas_score_noise.py``), mapped to the scale of the real
supernet scores: ``mean + spread * label`` (defaults: mean L1 0.0513 and
path-to-path std 0.0006, i.e. CV 1.1 %, of the 600-iteration toy supernet).

The BGRU predictor is trained on ``--train`` uniform random paths with each
loss (RankNet / L1 / L2, official schedule: ``--epochs``, batch 16, Adam
1e-3) twice: on the labels as they are (``raw``, what
``tools/search/train_predictor.py`` does) and standardised with the
training labels' mean / std (``zscore``). Kendall τ / Spearman ρ on
``--heldout`` paths against the noise-free label. If ``zscore`` ranks and
``raw`` does not, the labels' small spread is what defeats the
predictor: RankNet's target ½(1 + clamp(y_i − y_j, ±1)) is ≈ ½ for every
pair when the labels differ by 1e-3, and L1 / L2 fit the mean.

Ends with ``RESULT {json}``.
"""
import argparse
import json
import os.path as osp
import random
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import ConfigDict  # noqa: E402

from mmfusenas.models.gisr import DCNASNet  # noqa: E402
from mmfusenas.models.mutables import (encode_choices,  # noqa: E402
                                       one_shot_space, random_choices)
from mmfusenas.search.predictors import (BGRUPredictor,  # noqa: E402
                                         kendall_tau, predict_scores,
                                         spearman_rho, train_predictor)


def synthetic_labels(space, n, seed, table):
    """``n`` random paths, their codes and the standardised log params."""
    rng = random.Random(seed)
    paths = [random_choices(space, rng) for _ in range(n)]
    codes = np.array([encode_choices(space, p) for p in paths])
    logp = np.log([table.cost(p)['params'] for p in paths])
    return codes, (logp - logp.mean()) / logp.std()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--train', type=int, default=80)
    p.add_argument('--heldout', type=int, default=200)
    p.add_argument('--seeds', type=int, default=2)
    p.add_argument('--mean', type=float, default=0.0513)
    p.add_argument('--spread', type=float, default=0.0006)
    p.add_argument('--noise', type=float, default=0.18)
    p.add_argument('--epochs', type=int, default=100)
    args = p.parse_args(argv)
    from bench_dcnas_search import toy_cost_table
    space = one_shot_space(DCNASNet(None, num_features=8, num_blocks=2))
    table = toy_cost_table(ConfigDict(num_features=8, num_blocks=2))
    codes, z = synthetic_labels(space, args.train + args.heldout, 0, table)
    rng = np.random.default_rng(0)
    noisy = (z + args.noise * rng.standard_normal(len(z))) / np.sqrt(
        1 + args.noise**2)
    y = args.mean + args.spread * noisy
    ntr = args.train
    rows = {}
    for loss in ('ranknet', 'l1', 'l2'):
        for scaling in ('raw', 'zscore'):
            norm = 'standardize' if scaling == 'zscore' else None
            taus, rhos = [], []
            for seed in range(args.seeds):
                torch.manual_seed(seed)
                pred = BGRUPredictor(space)
                train_predictor(pred, codes[:ntr], y[:ntr], loss,
                                args.epochs, 16, 1e-3, seed,
                                label_norm=norm)
                est = predict_scores(pred, codes[ntr:])
                taus.append(kendall_tau(est, z[ntr:]))
                rhos.append(spearman_rho(est, z[ntr:]))
            rows[f'{loss}/{scaling}'] = dict(
                kendall_tau=float(np.mean(taus)),
                kendall_std=float(np.std(taus)),
                spearman_rho=float(np.mean(rhos)))
    ceiling = kendall_tau(y[ntr:], z[ntr:])
    print(f'\nBGRU on a learnable label (standardised log params + noise '
          f'{args.noise}) at the supernet scores\' scale (mean '
          f'{args.mean}, std {args.spread}); {ntr} training / '
          f'{args.heldout} held-out paths, {args.seeds} seeds; τ against '
          f'the noise-free label (the noisy label itself: τ = '
          f'{ceiling:.3f})')
    print('| loss | labels | Kendall τ | Spearman ρ |\n|---|---|---|---|')
    for k, r in rows.items():
        loss, scaling = k.split('/')
        print(f'| {loss} | {scaling} | {r["kendall_tau"]:.3f} ± '
              f'{r["kendall_std"]:.3f} | {r["spearman_rho"]:.3f} |')
    result = dict(train=ntr, heldout=args.heldout, noise=args.noise,
                  mean=args.mean, spread=args.spread, label_tau=ceiling,
                  rows=rows)
    print('RESULT ' + json.dumps(result))
    return result


if __name__ == '__main__':
    main()
