"""HBL on toy and real samples: searched loss weights and architectures.

Usage::

    python projects/reproductions/bench_hbl.py [--tasks toy_lowlight toy_haze
        toy_underwater lol mit] [--seeds 0 1] [--search-steps 10]
        [--train-steps 100] [--random-genotypes 2] [--threads 1]

Protocol, per task and seed, everything at equal budget (the same training
steps, crops, optimiser and data for every arm; the searches' own cost is
reported separately):

* stage 1: loss search (:class:`LossWeightSearchAlgorithm`, toy HBL space of
  ``configs/_base_/models/hbl_search_space.py`` with frozen random α, the
  8 toy loss terms of ``configs/hbl/_base_/hbl_losses.py``, objective
  ``-PSNR`` on the val split, one-step unrolled DARTS with the SGD state)
  for ``--search-steps`` -> β*;
* (a) a fixed random genotype of the space (drawn per seed) trained with the
  hand weights (all 1) and with β*;
* stage 2: architecture search (:class:`BilevelSearchAlgorithm`, same space
  and solver, lower and upper loss weighted by β*) -> genotype G*;
* (b) G* and ``--random-genotypes`` random genotypes trained with β*.

Training: SGD lr 0.01, momentum 0.9, wd 3e-4, clip 5, batch 2, random
32x32 crops + flips, ``--train-steps`` steps. Test: PSNR (float) and SSIM
(8-bit, 'valid' Gaussian) on the test images (real images centre-cropped
to 128x128). The toy VGG / LPIPS terms use random stand-in networks (no
pretrained weights are downloaded), so they are not perceptual here.

Tasks: ``toy_lowlight`` / ``toy_haze`` / ``toy_underwater`` (generated,
8 train + 4 val + 4 test), ``lol`` (``../shared/data/lowlight/LOL``:
our485_subset (6) trains, eval15 first 4 val / next 4 test), ``mit``
(``../shared/data/lowlight/mit``: 3 train, 1 val, 1 test). Ends with
``RESULT {json}``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import tempfile
import time
from typing import Dict, List, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement
from PIL import Image

from mmfusenas.evaluation.functional.enhancement import psnr, ssim_uint8
from mmfusenas.models.mutables import fix_space_cfg
from mmfusenas.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmfusenas.testing.toy_data import (generate_toy_haze,
                                        generate_toy_lowlight,
                                        generate_toy_underwater)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = osp.join(osp.dirname(REPO), 'shared', 'data', 'lowlight')
TASKS = ('toy_lowlight', 'toy_haze', 'toy_underwater', 'lol', 'mit')
Pairs = List[Tuple[torch.Tensor, torch.Tensor]]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--tasks', nargs='+', default=list(TASKS[:4]),
                   choices=TASKS)
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1])
    p.add_argument('--search-steps', type=int, default=10)
    p.add_argument('--train-steps', type=int, default=100)
    p.add_argument('--random-genotypes', type=int, default=2)
    p.add_argument('--threads', type=int, default=1)
    return p.parse_args()


# ----------------------------------------------------------------------
# data
# ----------------------------------------------------------------------
def _read(path: str) -> torch.Tensor:
    return torch.from_numpy(np.asarray(
        Image.open(path).convert('RGB'))).permute(2, 0, 1).contiguous()


def _pairs(low_dir: str, gt_dir: str, names: List[str],
           crop: int = 0) -> Pairs:
    out = []
    for name in names:
        low, gt = _read(osp.join(low_dir, name)), _read(osp.join(gt_dir, name))
        if crop:
            h, w = low.shape[-2:]
            t, l = (h - crop) // 2, (w - crop) // 2
            low = low[:, t:t + crop, l:l + crop]
            gt = gt[:, t:t + crop, l:l + crop]
        out.append((low, gt))
    return out


def load_task(task: str, tmp: str) -> Dict[str, Pairs]:
    """``{'train', 'val', 'test'}`` lists of uint8 (low, gt) pairs."""
    if task.startswith('toy_'):
        root = osp.join(tmp, task)
        kind = task[4:]
        if kind == 'lowlight':
            generate_toy_lowlight(root, num_train=8, num_val=8, size=64,
                                  seed=7)
            sub = ('low', 'high')
        elif kind == 'haze':
            generate_toy_haze(root, num_train=8, num_val=8, size=64, seed=7)
            sub = ('hazy', 'clear')
        else:
            generate_toy_underwater(root, num_train=8, num_val=8, size=64,
                                    seed=7, source='toy')
            sub = ('raw', 'reference')
        tr = sorted(os.listdir(osp.join(root, 'train', sub[0])))
        va = sorted(os.listdir(osp.join(root, 'val', sub[0])))
        return dict(
            train=_pairs(*(osp.join(root, 'train', s) for s in sub), tr),
            val=_pairs(*(osp.join(root, 'val', s) for s in sub), va[:4]),
            test=_pairs(*(osp.join(root, 'val', s) for s in sub), va[4:]))
    if task == 'lol':
        sub = osp.join(SHARED, 'LOL')
        tr = sorted(os.listdir(osp.join(sub, 'our485_subset', 'low')))
        ev = sorted(os.listdir(osp.join(sub, 'eval15', 'low')))
        tdir = [osp.join(sub, 'our485_subset', s) for s in ('low', 'high')]
        edir = [osp.join(sub, 'eval15', s) for s in ('low', 'high')]
        return dict(
            train=_pairs(*tdir, tr),
            val=_pairs(*edir, ev[:4], crop=128),
            test=_pairs(*edir, ev[4:8], crop=128))
    names = sorted(os.listdir(osp.join(SHARED, 'mit', 'test')))
    d = [osp.join(SHARED, 'mit', s) for s in ('test', 'gt')]
    return dict(
        train=_pairs(*d, names[:3]),
        val=_pairs(*d, names[3:4], crop=128),
        test=_pairs(*d, names[4:5], crop=128))


def _batch(pairs: Pairs, rng: np.random.Generator, n: int = 2,
           crop: int = 32) -> dict:
    lows, samples = [], []
    for _ in range(n):
        low, gt = pairs[rng.integers(len(pairs))]
        h, w = low.shape[-2:]
        t, l = rng.integers(h - crop + 1), rng.integers(w - crop + 1)
        low = low[:, t:t + crop, l:l + crop]
        gt = gt[:, t:t + crop, l:l + crop]
        if rng.random() < 0.5:
            low, gt = low.flip(-1), gt.flip(-1)
        lows.append(low.contiguous())
        samples.append(BaseDataElement(gt_img=gt.contiguous()))
    return dict(inputs=lows, data_samples=samples)


# ----------------------------------------------------------------------
# stages
# ----------------------------------------------------------------------
CFG = {}


def configs():
    if not CFG:
        CFG['space'] = Config.fromfile(
            osp.join(REPO, 'configs/_base_/models/hbl_search_space.py')
        ).hbl_toy_supernet.to_dict()
        losses = Config.fromfile(
            osp.join(REPO, 'configs/hbl/_base_/hbl_losses.py'))
        CFG['search_losses'] = losses.hbl_search_losses_toy
        CFG['train_losses'] = losses.hbl_train_losses_toy
        CFG['search_ow'] = Config.fromfile(
            osp.join(REPO, 'configs/hbl/search_loss_hbl_toy.py')
        ).optim_wrapper.to_dict()
        CFG['arch_ow'] = Config.fromfile(
            osp.join(REPO, 'configs/hbl/search_arch_hbl_toy.py')
        ).optim_wrapper.to_dict()
    return CFG


def _enhancer(network: dict, losses, loss_weights=None) -> dict:
    cfg = dict(
        type='ImageEnhancer',
        data_preprocessor=dict(type='EnhanceDataPreprocessor'),
        network=copy.deepcopy(network),
        losses=copy.deepcopy(list(losses)))
    if loss_weights is not None:
        cfg['loss_weights'] = dict(loss_weights)
    return cfg


def _optim(model, ow_cfg: dict):
    ow_cfg = copy.deepcopy(ow_cfg)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=ow_cfg.pop('constructor'), optim_wrapper_cfg=ow_cfg))
    return constructor(model)


def _search(algo, ow_cfg: dict, data, steps: int, rng_seed: list) -> None:
    """``steps`` bilevel steps of ``algo`` (optimizer of ``ow_cfg``), each
    on a random train and a random val batch drawn with ``rng_seed``."""
    ow = _optim(algo, ow_cfg)
    rng = np.random.default_rng(rng_seed)
    for _ in range(steps):
        algo.train_step(
            dict(train=_batch(data['train'], rng),
                 val=_batch(data['val'], rng)), ow)


def loss_search(data, steps: int, seed: int) -> Dict[str, float]:
    torch.manual_seed(seed)
    c = configs()
    algo = MODELS.build(
        dict(
            type='LossWeightSearchAlgorithm',
            architecture=_enhancer(c['space'], c['search_losses']),
            objective=dict(type='FullReferenceQualityObjective'),
            strategy=dict(
                type='DartsSecondOrderStrategy', use_optimizer_state=True)))
    _search(algo, c['search_ow'], data, steps, [seed, 1])
    return {k: v.item() for k, v in algo.hyper.weights.items()}


def arch_search(data, steps: int, seed: int, weights) -> dict:
    torch.manual_seed(seed)
    c = configs()
    algo = MODELS.build(
        dict(
            type='BilevelSearchAlgorithm',
            architecture=_enhancer(c['space'], c['train_losses'], weights),
            strategy=dict(
                type='DartsSecondOrderStrategy', use_optimizer_state=True),
            space_path='network'))
    _search(algo, c['arch_ow'], data, steps, [seed, 2])
    return algo.derive_genotype().choices


def random_choices(seed: int, k: int) -> dict:
    """A uniformly random genotype of the toy space."""
    rng = np.random.default_rng([seed, 100 + k])
    choices = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get('type') == 'DiffMixedOp':
                cands = list(node['candidates'])
                choices[node['key']] = cands[rng.integers(len(cands))]
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(configs()['space'])
    return choices


def train_and_test(data, choices: dict, weights, steps: int,
                   seed: int) -> Tuple[float, float]:
    torch.manual_seed(seed)
    c = configs()
    network = fix_space_cfg(c['space'], choices)
    model = MODELS.build(_enhancer(network, c['train_losses'], weights))
    ow = _optim(
        model,
        dict(
            constructor='DefaultOptimWrapperConstructor',
            type='OptimWrapper',
            optimizer=dict(
                type='SGD', lr=0.01, momentum=0.9, weight_decay=3e-4),
            clip_grad=dict(max_norm=5.0)))
    rng = np.random.default_rng([seed, 3])  # the same crops for every arm
    model.train()
    for _ in range(steps):
        batch = model.data_preprocessor(_batch(data['train'], rng), True)
        loss = sum(model(**batch, mode='loss').values())
        ow.update_params(loss)
    model.eval()
    ps, ss = [], []
    with torch.no_grad():
        for low, gt in data['test']:
            pred = model.network(low[None].float() / 255).clamp(0, 1)[0]
            ref = gt.float() / 255
            ps.append(psnr(pred.numpy(), ref.numpy()))
            ss.append(ssim_uint8(pred.numpy(), ref.numpy()))
    return float(np.mean(ps)), float(np.mean(ss))


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    ones = None
    results: Dict[str, Dict[str, list]] = {}
    timing: Dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, \
            DefaultScope.overwrite_default_scope('mmfusenas'):
        for task in args.tasks:
            data = load_task(task, tmp)
            rows = results.setdefault(task, {})
            for seed in args.seeds:
                t0 = time.perf_counter()
                beta = loss_search(data, args.search_steps, seed)
                t1 = time.perf_counter()
                base = random_choices(seed, 0)
                rows.setdefault('hand_beta', []).append(
                    train_and_test(data, base, ones, args.train_steps, seed))
                rows.setdefault('searched_beta', []).append(
                    train_and_test(data, base, beta, args.train_steps, seed))
                t2 = time.perf_counter()
                genotype = arch_search(data, args.search_steps, seed, beta)
                t3 = time.perf_counter()
                rows.setdefault('searched_arch', []).append(
                    train_and_test(data, genotype, beta, args.train_steps,
                                   seed))
                rand = [
                    train_and_test(data, random_choices(seed, k + 1), beta,
                                   args.train_steps, seed)
                    for k in range(args.random_genotypes)
                ]
                rows.setdefault('random_arch', []).append(
                    tuple(np.mean(rand, axis=0)))
                rows.setdefault('beta', []).append(beta)
                timing[f'{task}/seed{seed}/loss_search_s'] = t1 - t0
                timing[f'{task}/seed{seed}/arch_search_s'] = t3 - t2
                print(f'{task} seed {seed}: ' + ', '.join(
                    f'{k} {v[-1][0]:.2f}/{v[-1][1]:.3f}'
                    for k, v in rows.items() if k != 'beta'), flush=True)

    arms = ('hand_beta', 'searched_beta', 'searched_arch', 'random_arch')
    print(f'\nPSNR (dB) / SSIM on the test images, mean ± std over seeds '
          f'{args.seeds}; {args.train_steps} training steps per arm, '
          f'{args.search_steps} search steps')
    print('| task | (a) hand β=1 | (a) searched β | (b) searched arch | '
          f'(b) random arch (mean of {args.random_genotypes}) |')
    print('|---|---|---|---|---|')
    summary = {}
    for task, rows in results.items():
        cells, summary[task] = [], {}
        for arm in arms:
            vals = np.array(rows[arm])
            m, s = vals.mean(0), vals.std(0)
            summary[task][arm] = dict(
                psnr=round(float(m[0]), 3), ssim=round(float(m[1]), 4),
                psnr_std=round(float(s[0]), 3))
            cells.append(f'{m[0]:.2f} ± {s[0]:.2f} / {m[1]:.3f}')
        print(f'| {task} | ' + ' | '.join(cells) + ' |')
        summary[task]['beta'] = rows['beta']
    print('\nsearched β (per seed):')
    for task, rows in results.items():
        for seed, beta in zip(args.seeds, rows['beta']):
            print(f'  {task} seed {seed}: ' + ', '.join(
                f'{k[5:]} {v:.3f}' for k, v in beta.items()))
    print('\nsearch wall time (s): ' + ', '.join(
        f'{k} {v:.0f}' for k, v in timing.items()))
    print('RESULT ' + json.dumps(
        dict(args=vars(args), results=summary, timing=timing)))


if __name__ == '__main__':
    main()
