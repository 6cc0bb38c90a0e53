"""How noisy is a DCNAS path's score with supernet weights? (toy supernet)

Usage::

    python benchmarks/bench_dcnas_score_noise.py \
        --checkpoints s0@300=work_dirs/sn_s0/iter_300.pth \
                      s0@2400=work_dirs/sn_s0/iter_2400.pth \
                      s1@2400=work_dirs/sn_s1/iter_2400.pth \
        [--config configs/dcnas/supernet_toy_x4.py] [--paths 40] \
        [--budget 3e5] [--images 64] [--seed 0]

The evolution and the predictor both learn from a path's score: its mean
validation loss (normalised masked L1) with the supernet's weights. This
benchmark draws ``--paths`` random legal paths (``params <= --budget``,
deduplicated with ``DCNASNet.canonical_path``) and scores each **per
image** on the ``search_val`` split of the toy data (``python
tools/misc/make_toy_rgbd.py data/toy_rgbd --num-search-val 64``) with each
checkpoint. Per checkpoint it reports

* the spread of the paths' scores (coefficient of variation, range);
* the **split-half agreement** for ``n`` images per half: Kendall τ between
  the paths' scores on two disjoint random sets of ``n`` images (mean over
  20 random splits) and how often the best path on one half is among the
  best 10 % on the other. ``n = 4`` is the old toy validation split; the
  labels are only as good as this agreement;
* the noise-to-signal ratio: the spread of a path's score over disjoint
  ``n``-image sets, relative to the spread between paths;

and between checkpoints (all images): Kendall τ of the path scores of two
supernets (another training seed, another training length). Ends with
``RESULT {json}``.
"""
import argparse
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmfusenas.engine.runner import EvolutionSearcher  # noqa: E402
from mmfusenas.models.gisr import DCNASNet  # noqa: E402
from mmfusenas.models.mutables import apply_choices  # noqa: E402
from mmfusenas.models.mutables import one_shot_space  # noqa: E402
from mmfusenas.search.predictors import kendall_tau  # noqa: E402
from mmfusenas.search.strategies.path_samplers import unwrap  # noqa: E402

from bench_dcnas_search import scoring_runner, toy_cost_table  # noqa: E402


@torch.no_grad()
def per_image_losses(model, path, batches):
    """The path's loss per image: ``GuidedDepthSR``'s masked L1 in the
    normalised space (the toy configs' loss), one batched forward per
    batch."""
    apply_choices(model, path)
    model.eval()
    out = []
    for batch in batches:
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        pred = model.network(inputs['lr_up'], inputs['rgb'])
        err = (pred - samples['gt_norm'].to(pred)).abs()
        mask = (samples['gt'] > 0).to(pred)
        per = (err * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp(
            min=1)
        out += per.tolist()
    return out


def split_half(mat, n, rng, splits=20):
    """Agreement of path scores on two disjoint n-image halves."""
    taus, hits, ratios = [], [], []
    num_img = mat.shape[1]
    top = max(1, int(round(0.1 * mat.shape[0])))
    for _ in range(splits):
        idx = rng.permutation(num_img)
        a, b = mat[:, idx[:n]].mean(1), mat[:, idx[n:2 * n]].mean(1)
        taus.append(kendall_tau(a, b))
        hits.append(int(np.argmin(a) in np.argsort(b)[:top]))
        # noise: a path's score difference between the halves (std of one
        # half's mean = |a - b| / sqrt 2 on average) vs the between-path std
        ratios.append(np.std(a - b) / np.sqrt(2) / np.std((a + b) / 2))
    return dict(n=n, tau=float(np.mean(taus)), tau_std=float(np.std(taus)),
                best_in_top10pct=float(np.mean(hits)),
                noise_to_signal=float(np.mean(ratios)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='configs/dcnas/supernet_toy_x4.py')
    p.add_argument('--checkpoints', nargs='+', required=True,
                   help='LABEL=FILE pairs')
    p.add_argument('--data-root', default='data/toy_rgbd/search_val')
    p.add_argument('--paths', type=int, default=40)
    p.add_argument('--budget', type=float, default=3e5)
    p.add_argument('--images', type=int, default=64)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    ckpts = dict(c.split('=', 1) for c in args.checkpoints)
    for f in ckpts.values():
        if not osp.isfile(f):
            raise FileNotFoundError(f'checkpoint {f} not found')
    if not osp.isdir(args.data_root):
        raise FileNotFoundError(
            f'{args.data_root} not found: python tools/misc/make_toy_rgbd.py '
            'data/toy_rgbd --num-search-val 64')
    torch.manual_seed(0)
    # batches of 16 equal-size toy images
    cfg, runner = scoring_runner(args.config,
                                 'work_dirs/bench_dcnas_score_noise',
                                 args.data_root, 16)
    model = unwrap(runner.model)
    if model.loss_space != 'normalised':
        raise ValueError('this benchmark scores the toy configs\' '
                         'normalised L1 (loss_space=\'normalised\')')
    space = one_shot_space(model)
    batches = list(runner.val_dataloader)[:(args.images + 15) // 16]
    table = toy_cost_table(cfg.model.network)
    drawer = EvolutionSearcher(space, lambda x: 0.0, table.cost,
                               dict(params=args.budget), seed=args.seed,
                               canonical_fn=DCNASNet.canonical_path)
    paths = []
    drawer.random_legal(args.paths, paths)
    mats, rows = {}, {}
    for label, f in ckpts.items():
        t0 = time.time()
        runner.load_checkpoint(f)
        mats[label] = np.array(
            [per_image_losses(model, x, batches)[:args.images]
             for x in paths])
        m = mats[label]
        means = m.mean(1)
        rng = np.random.default_rng(args.seed)
        halves = [split_half(m, n, rng) for n in (4, 8, 16, 32)
                  if 2 * n <= m.shape[1]]
        rows[label] = dict(
            mean=float(means.mean()), cv=float(means.std() / means.mean()),
            range_pct=float((means.max() - means.min()) / means.mean() * 100),
            split_half=halves, seconds=round(time.time() - t0))
        print(f'{label}: scored in {rows[label]["seconds"]} s', flush=True)
    num_img = next(iter(mats.values())).shape[1]
    print(f'\n{len(paths)} random legal paths (params <= {args.budget:,.0f}),'
          f' scored per image on {num_img} images of {args.data_root}')
    print('| supernet | mean L1 | CV of path scores | range | n images / '
          'half | split-half τ | best on A in top 10 % on B | '
          'noise / signal |')
    print('|---|---|---|---|---|---|---|---|')
    for label, r in rows.items():
        for h in r['split_half']:
            print(f'| {label} | {r["mean"]:.5f} | {r["cv"] * 100:.2f} % | '
                  f'{r["range_pct"]:.1f} % | {h["n"]} | {h["tau"]:.3f} ± '
                  f'{h["tau_std"]:.3f} | {h["best_in_top10pct"] * 100:.0f} % '
                  f'| {h["noise_to_signal"]:.2f} |')
    labels = list(mats)
    cross = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            cross.append(dict(a=a, b=b, tau=kendall_tau(
                mats[a].mean(1), mats[b].mean(1))))
    print('\nAgreement between supernets (all images, Kendall τ)')
    print('| A | B | τ |\n|---|---|---|')
    for c in cross:
        print(f'| {c["a"]} | {c["b"]} | {c["tau"]:.3f} |')
    result = dict(paths=len(paths), images=num_img, budget=args.budget,
                  checkpoints=rows, cross=cross)
    print('RESULT ' + json.dumps(result))
    return result


if __name__ == '__main__':
    main()
