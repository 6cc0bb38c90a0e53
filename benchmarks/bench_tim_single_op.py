"""Single-operator fusion networks vs the searched N_F (TIM Table 7).

TIM (Sec. 5.3, Table 7) compares its searched fusion network with
"heuristic structures with fixed outer structure (using C_MS and C_SC)" in
which every edge carries one operator (3-DC / 5-DC dilated convolutions,
3-RB / 5-RB residual blocks, 3-DB / 5-DB dense blocks), all trained with
ℓ_T only and reported by MI, VIF, Q^AB/F, parameters and time on TNO.

This benchmark does the same at CPU scale: for each operator ``op`` the
network ``TIMFusionNet(cells=[MultiScaleFusionCell([op, op]),
SuccessiveCell([op, op])])`` at ``--channels`` width, plus the searched N_F
(the official genotype ``fusion_M``: C_MS ``[Residualblocks_3_1,
DilConv_3_2]`` + C_SC ``[Denseblocks_3_1, DilConv_3_2]``, the network of
every ``fusion_ivif_*.py`` config), is trained from the same seed for the
same budget (``--iters`` Adam steps, lr ``--lr``, ``--batch`` random
``--crop`` crops) on ℓ_T (``SaliencyWeightedLoss``, the configs' l_T) and
evaluated on held-out pairs with
:func:`~mmfusenas.evaluation.functional.compute_fusion_metrics` (preset
``cddfuse``: MI, VIF, Qabf, plus SSIM), its parameter count and its median
CPU time for one ``--time-size`` pair.

Data (``--data``): ``toy`` -- procedural pairs written by
:func:`~mmfusenas.toy_data.ivif.generate_toy_dataset` (``--toy-num``
pairs at 128 px, its ``train`` / ``val`` split) into a temporary folder;
``tno`` -- the shared TNO samples (``../shared/data/fusion/TNO``, the last
``--test-pairs`` held out), luminance resized to a shorter side of 192.

Example::

    python benchmarks/bench_tim_single_op.py --quick
    python benchmarks/bench_tim_single_op.py --data toy --iters 300
"""
import argparse
import glob
import json
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmfusenas.evaluation.functional import compute_fusion_metrics  # noqa
from mmfusenas.registry import MODELS  # noqa: E402

SHARED = osp.join(osp.dirname(REPO), 'shared', 'data', 'fusion')
METRICS = ['MI', 'VIF', 'Qabf', 'SSIM']
#: Table 7's operators (paper label -> official genotype string)
OPERATORS = {
    '3-DC': 'DilConv_3_2',
    '5-DC': 'DilConv_5_2',
    '3-RB': 'Residualblocks_3_1',
    '5-RB': 'Residualblocks_5_1',
    '3-DB': 'Denseblocks_3_1',
    '5-DB': 'Denseblocks_5_1',
}
#: the searched N_F (official genotype fusion_M)
SEARCHED = (('Residualblocks_3_1', 'DilConv_3_2'),
            ('Denseblocks_3_1', 'DilConv_3_2'))
#: TIM Table 7 (TNO, full-size networks): MI, VIF, Qabf, params (M), s
PAPER = {
    '3-DC': (3.130, 0.839, 0.412, 0.992, 0.0585),
    '5-DC': (3.087, 0.829, 0.383, 0.997, 0.0963),
    '3-RB': (3.207, 0.874, 0.422, 0.999, 0.0821),
    '5-RB': (3.398, 0.888, 0.458, 1.011, 0.0774),
    '3-DB': (3.465, 0.895, 0.428, 0.924, 0.1951),
    '5-DB': (3.415, 0.869, 0.428, 0.997, 0.3622),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', choices=('toy', 'tno'), default='toy')
    p.add_argument('--toy-num', type=int, default=64,
                   help='toy pairs (a quarter is the held-out val split)')
    p.add_argument('--test-pairs', type=int, default=8,
                   help='held-out TNO pairs (--data tno)')
    p.add_argument('--channels', type=int, default=16)
    p.add_argument('--iters', type=int, default=300)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--crop', type=int, default=64)
    p.add_argument('--time-size', type=int, default=128,
                   help='side of the square pair timed')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--ops', nargs='+', default=list(OPERATORS),
                   choices=list(OPERATORS))
    p.add_argument('--quick', action='store_true',
                   help='20 iterations, 3-DC and 3-RB only, 16 toy pairs')
    args = p.parse_args(argv)
    if args.quick:
        args.iters, args.ops, args.toy_num = 20, ['3-DC', '3-RB'], 16
    return args


def net_cfg(cells: Tuple[Tuple[str, str], Tuple[str, str]],
            channels: int) -> dict:
    """``TIMFusionNet`` with C_MS(cells[0]) then C_SC(cells[1])."""
    return dict(
        type='TIMFusionNet',
        channels=channels,
        in_channels=2,
        cells=[
            dict(type='MultiScaleFusionCell', ops=list(cells[0])),
            dict(type='SuccessiveCell', ops=list(cells[1])),
        ])


def _read_pair(ir_path: str, vi_path: str,
               size: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    out = []
    for path in (ir_path, vi_path):
        img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise OSError(f'cannot read {path}')
        if size:
            h, w = img.shape
            scale = size / min(h, w)
            img = cv2.resize(img, (round(w * scale) // 4 * 4,
                                   round(h * scale) // 4 * 4),
                             interpolation=cv2.INTER_AREA)
        out.append(img.astype(np.float32) / 255.0)
    return out[0], out[1]


def load_toy(num: int, folder: str) -> Tuple[List, List]:
    """Generate ``num`` toy pairs at 128 px; (train, val) pair lists."""
    from mmfusenas.toy_data.ivif import generate_toy_dataset
    generate_toy_dataset(folder, num=num, seed=0, size=128)
    splits = {}
    for split in ('train', 'val'):
        with open(osp.join(folder, 'splits', f'{split}.txt')) as f:
            stems = [line.strip() for line in f if line.strip()]
        splits[split] = [
            _read_pair(*(glob.glob(osp.join(folder, m, stem + '.*'))[0]
                         for m in ('ir', 'vi'))) for stem in stems
        ]
    return splits['train'], splits['val']


def load_tno(test_pairs: int) -> Tuple[List, List]:
    """The shared TNO samples at a shorter side of 192; the last
    ``test_pairs`` are held out."""
    folder = osp.join(SHARED, 'TNO')
    pairs = []
    for ir_path in sorted(glob.glob(osp.join(folder, 'ir', '*'))):
        stem = osp.splitext(osp.basename(ir_path))[0]
        (vi_path, ) = glob.glob(osp.join(folder, 'vi', stem + '.*'))
        pairs.append(_read_pair(ir_path, vi_path, size=192))
    if len(pairs) <= test_pairs:
        raise FileNotFoundError(f'{folder}: {len(pairs)} pairs, need more '
                                f'than --test-pairs {test_pairs}')
    return pairs[:-test_pairs], pairs[-test_pairs:]


def batch(pairs, rng, size, crop) -> torch.Tensor:
    """``(size, 2, crop, crop)`` random (ir, vi) crops."""
    out = []
    for i in rng.integers(0, len(pairs), size):
        ir, vi = pairs[i]
        y = rng.integers(0, ir.shape[0] - crop + 1)
        x = rng.integers(0, ir.shape[1] - crop + 1)
        out.append(np.stack([ir[y:y + crop, x:x + crop],
                             vi[y:y + crop, x:x + crop]]))
    return torch.from_numpy(np.stack(out))


def train(cfg: dict, pairs, args) -> Tuple[torch.nn.Module, float]:
    """Train on ℓ_T; returns the network and its last loss."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = MODELS.build(cfg)
    loss_fn = MODELS.build(
        dict(type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0))
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, max(args.iters, 1), eta_min=args.lr * 0.01)
    last = float('nan')
    for _ in range(args.iters):
        src = batch(pairs, rng, args.batch, args.crop)
        loss = loss_fn(net(src), src)
        if not torch.isfinite(loss):
            raise FloatingPointError(f'{cfg["cells"]}: non-finite loss')
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        last = loss.item()
    return net.eval(), last


@torch.no_grad()
def evaluate(net, pairs) -> Dict[str, float]:
    rows = []
    for ir, vi in pairs:
        h, w = ir.shape
        src = torch.from_numpy(np.stack([ir, vi]))[None]
        src = torch.nn.functional.pad(src, (0, -w % 4, 0, -h % 4),
                                      mode='replicate')
        fused = net(src)[0, 0, :h, :w].clamp(0, 1).numpy()
        rows.append(compute_fusion_metrics(ir * 255, vi * 255, fused * 255,
                                           preset='cddfuse',
                                           metrics=METRICS))
    return {m: float(np.mean([r[m] for r in rows])) for m in METRICS}


def n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@torch.no_grad()
def cpu_time(net, size: int, repeats: int = 5) -> float:
    x = torch.rand(1, 2, size, size)
    net(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        net(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main(argv=None) -> Dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        train_pairs, test_pairs = (
            load_toy(args.toy_num, osp.join(tmp, 'toy'))
            if args.data == 'toy' else load_tno(args.test_pairs))
    print(f'{args.data}: {len(train_pairs)} training / {len(test_pairs)} '
          f'held-out pairs; C = {args.channels}, {args.iters} iterations '
          f'x {args.batch} crops of {args.crop} px, l_T only')
    variants = {label: ((OPERATORS[label], ) * 2, (OPERATORS[label], ) * 2)
                for label in args.ops}
    variants['searched N_F'] = SEARCHED
    results = {}
    for label, cells in variants.items():
        t0 = time.time()
        net, last = train(net_cfg(cells, args.channels), train_pairs, args)
        res = evaluate(net, test_pairs)
        res.update(
            params_M=n_params(net) / 1e6,
            params_full_M=n_params(MODELS.build(net_cfg(cells, 48))) / 1e6,
            time_s=cpu_time(net, args.time_size),
            final_loss=last,
            train_s=round(time.time() - t0, 1))
        results[label] = res
        print(f'  {label}: ' + ', '.join(
            f'{k} {v:.4f}' for k, v in res.items()), flush=True)
    print('\n| network | ' + ' | '.join(METRICS) +
          f' | params (M, C={args.channels}) | params (M, C=48) | '
          f'CPU s ({args.time_size} px) | final l_T | paper MI / VIF / Qabf |')
    print('|---' * (len(METRICS) + 6) + '|')
    for label, res in results.items():
        paper = PAPER.get(label)
        paper_s = ('searched: 3.285 / 0.861 / 0.458 (Table 6, IAS)'
                   if paper is None else
                   f'{paper[0]:.3f} / {paper[1]:.3f} / {paper[2]:.3f}')
        vals = ' | '.join(f'{res[m]:.4f}' for m in METRICS)
        print(f'| {label} | {vals} | {res["params_M"]:.4f} | '
              f'{res["params_full_M"]:.3f} | {res["time_s"]:.4f} | '
              f'{res["final_loss"]:.4f} | {paper_s} |')
    summary = dict(args=vars(args), results=results,
                   seconds=round(time.time() - start, 1))
    print('RESULT ' + json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
