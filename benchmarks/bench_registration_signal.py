"""Is there a cross-modality matching signal on real IR/VIS crops?

A cheap diagnosis for the learned registration network ``N_R`` (TIM Table 3,
``docs/tim.md``): before asking a network to learn where an infrared crop
moved relative to its visible crop, check which similarity measures can
tell at all. For random ``--crop`` crops of the shared TNO / RoadScene pairs
(luminance, shorter side ``--size`` as ``bench_registration.py``), the IR
windows at every integer shift ``s`` (``|s_x|, |s_y| <= --max-shift``) are
scored by each measure against the VIS crop, and the argmax is compared
with the true alignment ``s = 0`` (the shared pairs are registered):

* ``ngf``: mean squared cosine of the normalised gradient fields (NGF,
  edge scale ``--eps``; what ``NGFLoss`` maximises);
* ``mi``: mutual information of the 32-bin joint histogram;
* ``ncc``: absolute global normalised cross-correlation of intensities;
* ``ncc_gradmag``: global NCC of the gradient magnitudes;
* ``orient``: correlation of the doubled-angle orientation images
  (:func:`~mmfusenas.models.registration.orientation_features`, the input
  representation of ``PyramidCorrRegNet(inputs='orientation')``);
* ``chance``: a random score (the floor).

Reported: the share of crops whose argmax is the true shift, and the mean
distance (px) between argmax and truth. A measure with a low hit rate gives
a network nothing to learn from at that crop size.

Example::

    python benchmarks/bench_registration_signal.py --crops 64
"""
import argparse
import json
import os.path as osp
import sys
import time
from typing import Dict

import numpy as np
import torch
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from mmfusenas.models.losses.registration_losses import \
    image_gradients  # noqa: E402
from mmfusenas.models.registration import orientation_features  # noqa: E402

from bench_registration import SHARED, load_pairs  # noqa: E402

MEASURES = ('ngf', 'mi', 'ncc', 'ncc_gradmag', 'orient', 'chance')


def _ncc(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Global NCC per sample of ``(S, 1, H, W)`` batches."""
    a = a.flatten(1) - a.flatten(1).mean(1, keepdim=True)
    b = b.flatten(1) - b.flatten(1).mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + 1e-8)


def _mi(a: torch.Tensor, b: torch.Tensor, bins: int = 32) -> torch.Tensor:
    """Mutual information of the joint histogram per sample."""
    s = a.shape[0]
    ia = (a.flatten(1).clamp(0, 1) * (bins - 1)).round().long()
    ib = (b.flatten(1).clamp(0, 1) * (bins - 1)).round().long()
    idx = ia * bins + ib + torch.arange(s)[:, None] * bins * bins
    joint = torch.bincount(idx.flatten(), minlength=s * bins * bins)
    joint = joint.view(s, bins, bins).float()
    joint = joint / joint.sum((1, 2), keepdim=True)
    pa, pb = joint.sum(2, keepdim=True), joint.sum(1, keepdim=True)
    ratio = joint / (pa * pb + 1e-12)
    return (joint * torch.log(ratio + 1e-12)).sum((1, 2))


def _ngf(a: torch.Tensor, b: torch.Tensor, eps: float) -> torch.Tensor:
    ax, ay = image_gradients(a)
    bx, by = image_gradients(b)
    dot = (ax * bx + ay * by).pow(2)
    norm = (ax.pow(2) + ay.pow(2) + eps**2) * (bx.pow(2) + by.pow(2) + eps**2)
    return (dot / norm).flatten(1).mean(1)


def _gradmag(x: torch.Tensor) -> torch.Tensor:
    gx, gy = image_gradients(x)
    return (gx.pow(2) + gy.pow(2) + 1e-12).sqrt()


def score(measure: str, fixed: torch.Tensor, windows: torch.Tensor,
          eps: float, rng: np.random.Generator) -> torch.Tensor:
    """Scores of ``(S, 1, c, c)`` IR windows against one VIS crop."""
    fix = fixed.expand_as(windows)
    if measure == 'ngf':
        return _ngf(fix, windows, eps)
    if measure == 'mi':
        return _mi(fix, windows)
    if measure == 'ncc':
        return _ncc(fix, windows).abs()
    if measure == 'ncc_gradmag':
        return _ncc(_gradmag(fix), _gradmag(windows))
    if measure == 'orient':
        fa = orientation_features(fix, eps)[:, :2]
        fb = orientation_features(windows, eps)[:, :2]
        return (fa * fb).sum(1).flatten(1).mean(1)
    return torch.from_numpy(rng.random(windows.shape[0]))


def run(args) -> Dict:
    rng = np.random.default_rng(args.seed)
    pairs = load_pairs(osp.join(args.data, 'TNO'), args.size) + \
        load_pairs(osp.join(args.data, 'RoadScene'), args.size)
    m, c = args.max_shift, args.crop
    shifts = [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1)]
    hits = {k: [] for k in MEASURES}
    dists = {k: [] for k in MEASURES}
    for _ in range(args.crops):
        _, ir, vi = pairs[rng.integers(len(pairs))]
        y = rng.integers(m, ir.shape[0] - c - m + 1)
        x = rng.integers(m, ir.shape[1] - c - m + 1)
        fixed = torch.from_numpy(vi[y:y + c, x:x + c].copy())[None, None]
        ir_t = torch.from_numpy(ir)
        # IR windows displaced by every candidate shift; the true alignment
        # is the window at (0, 0)
        windows = torch.stack([
            ir_t[y + dy:y + dy + c, x + dx:x + dx + c] for dy, dx in shifts
        ])[:, None]
        for k in MEASURES:
            s = shifts[int(score(k, fixed, windows, args.eps, rng).argmax())]
            hits[k].append(s == (0, 0))
            dists[k].append(float(np.hypot(*s)))
    return {
        k: dict(hit=float(np.mean(hits[k])), dist=float(np.mean(dists[k])))
        for k in MEASURES
    }


def main(argv=None) -> Dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=SHARED)
    p.add_argument('--size', type=int, default=192)
    p.add_argument('--crops', type=int, default=64)
    p.add_argument('--crop-sizes', type=int, nargs='+', default=[48, 96])
    p.add_argument('--max-shift', type=int, default=6)
    p.add_argument('--eps', type=float, default=0.1)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    start = time.time()
    results = {}
    for crop in args.crop_sizes:
        args.crop = crop
        results[crop] = run(args)
    print(f'{args.crops} random crops of the TNO + RoadScene pairs, shifts '
          f'|t| <= {args.max_shift} px ({(2 * args.max_shift + 1)**2} '
          'candidates): share of crops whose best-scoring shift is the true '
          'alignment / mean distance of the argmax from it (px)')
    print('| measure | ' + ' | '.join(f'crop {c}' for c in results) + ' |')
    print('|---' * (len(results) + 1) + '|')
    for k in MEASURES:
        print(f'| {k} | ' + ' | '.join(
            f'{r[k]["hit"]:.2f} / {r[k]["dist"]:.2f}'
            for r in results.values()) + ' |')
    summary = dict(
        args={k: v for k, v in vars(args).items() if k not in ('data', 'crop')},
        results=results, seconds=round(time.time() - start, 1))
    print('RESULT ' + json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
