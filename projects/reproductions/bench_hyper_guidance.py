"""Hyper-guidance on the Levin benchmark: guidance ablation, training
strategy and noise-level mismatch, re-measured with equal training budgets.

Usage::

    python projects/reproductions/bench_hyper_guidance.py [--iters 300] [--width 16]
        [--stages 5] [--crop 64] [--batch 4] [--lr 1e-3] [--sigmas 1 3 5]
        [--levin-files 8] [--hypergradient] [--threads 1] [--seed 0]

Every model is the 5-stage unrolled HQS network of
``configs/hyper_guidance`` with proxies / denoisers of width ``--width``
(64 in the paper; 16 keeps a CPU run to minutes), trained for the same
number of iterations on the same synthetic batches (the shared real images
``lowlight/LOL/eval15/high``, ``lowlight/mit/gt``, ``gisr/Middlebury/RGB``,
``fusion/TNO/vi`` as gray ``--crop`` crops, 20 generated motion-blur
kernels of 13-27 px, σ ~ U[1 %, 5 %), uint8 truncation, edgetaper), Adam
``--lr`` for every optimizer:

- ``no guidance``: ``meta_nohyper`` (small_ffd denoiser on x̃ alone),
  end-to-end on the reconstruction loss;
- ``manual guidance``: ``meta_man`` (stage 1 fed the true σ map, small_ffd
  with [x̃, σ]), end-to-end;
- ``proxy (naive e2e)``: the proxy network trained end-to-end on the
  reconstruction loss only (the paper's "naive" strategy);
- ``proxy (bilevel)``: the official alternating scheme (guidance step on
  100·MSE(σ̂₁, σ), then reconstruction step);
- ``proxy (hypergrad)`` (with ``--hypergradient``): one-step unrolled DARTS
  hypergradient, all five proxies supervised.

Evaluation: ``--levin-files`` Levin pairs (evenly spread over the 32;
re-synthesised at σ, edge padding + edgetaper, shift-max PSNR / SSIM with a
⌊k/2⌋ border, the official protocol). Noise-level mismatch: at true σ = 3 %
the manual-guidance model is fed an assumed level of 1-7 %, the proxy
models need none. Also the stage-1 proxy's mean σ̂ against the true σ. Prints
tables and one line ``RESULT {json}``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import shlex
import sys
import time
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope
from terminaltables import AsciiTable
from torch.utils.data import DataLoader

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.datasets import (BlurredImageDataset,  # noqa: E402
                                LevinDataset, SyntheticDeblurDataset)
from mmfusenas.engine import BilevelOptimWrapperConstructor  # noqa: E402
from mmfusenas.evaluation.functional import shift_max_psnr_ssim  # noqa: E402
from mmfusenas.models.restoration import gradient_wiener  # noqa: E402
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.search.estimators import count_params  # noqa: E402
from mmfusenas.utils.checkpoint import read_checkpoint  # noqa: E402
from mmfusenas.utils.fileio import atomic_write  # noqa: E402
from mmfusenas.benchmark.results_record import (  # noqa: E402
    check_record_path, write_results_record)
from mmfusenas.benchmark.seed_runs import (  # noqa: E402
    collect_seed_runs, read_stored_run, seed_stats)

SHARED = osp.join(osp.dirname(ROOT), 'shared', 'data')
LEVIN_ROOT = osp.join(SHARED, 'deblur', 'levin09')
BSD68_ROOT = osp.join(SHARED, 'deblur', 'BSD68')
#: the generated motion kernels of the training synthesis
TRAIN_KERNELS = dict(type='motion', num=20, size=(13, 17, 21, 27))
#: the classical baseline's row name
WIENER = 'gradient Wiener (tuned)'
IMG_DIRS = ['lowlight/LOL/eval15/high', 'lowlight/mit/gt',
            'gisr/Middlebury/RGB', 'fusion/TNO/vi']


def restorer_cfg(args, guidance='proxy', dilations='ffd', **kw) -> dict:
    cfg = dict(
        type='HQSRestorer',
        network=dict(
            type='UnrolledHQSNet',
            num_stages=args.stages,
            rho=dict(noise_sigma=0.01),
            proxy=dict(type='NoiseLevelProxy', width=args.width,
                       out_act=args.proxy_act),
            denoiser=dict(type='DilatedDenoiser', dilations=dilations,
                          width=args.width),
            guidance=guidance))
    cfg.update(kw)
    return cfg


#: ``--variants`` keys -> table names
VARIANT_NAMES = {
    'none': 'no guidance',
    'manual': 'manual guidance',
    'naive': 'proxy (naive e2e)',
    'bilevel': 'proxy (bilevel)',
    'hypergrad': 'proxy (hypergrad)',
}


def variants(args) -> Dict[str, dict]:
    out = {
        'no guidance': restorer_cfg(args, 'none', 'small_ffd',
                                    guidance_weight=0.0),
        'manual guidance': restorer_cfg(args, 'manual', 'small_ffd',
                                        guidance_weight=0.0),
        'proxy (naive e2e)': restorer_cfg(args, guidance_weight=0.0),
        'proxy (bilevel)': dict(
            type='ProxyBilevelAlgorithm', architecture=restorer_cfg(args),
            scheme='alternating'),
    }
    if args.hypergradient or 'hypergrad' in (args.variants or ()):
        out['proxy (hypergrad)'] = dict(
            type='ProxyBilevelAlgorithm',
            architecture=restorer_cfg(args, guidance_stages='all'),
            scheme='hypergradient',
            strategy=dict(type='DartsSecondOrderStrategy'))
    if args.variants:
        out = {VARIANT_NAMES[k]: out[VARIANT_NAMES[k]] for k in args.variants}
    return out


def train_folders(args) -> list:
    return [osp.join(SHARED, d) for d in args.train_dirs]


def train_loader(args, seed: int) -> DataLoader:
    ds = SyntheticDeblurDataset(
        train_folders(args), kernels=TRAIN_KERNELS, crop_size=args.crop,
        sigma_range=(0.01, 0.05), kernel_pad=27, length=10**6, seed=seed)
    g = torch.Generator().manual_seed(seed)
    return DataLoader(ds, batch_size=args.batch, shuffle=True, generator=g,
                      collate_fn=pseudo_collate, num_workers=0)


def train(name: str, cfg: dict, args) -> torch.nn.Module:
    torch.manual_seed(args.seed)
    model = MODELS.build(copy.deepcopy(cfg))
    adam = dict(type='Adam', lr=args.lr, betas=(0.9, 0.999), eps=1e-7)
    if cfg['type'] == 'ProxyBilevelAlgorithm':
        ow = BilevelOptimWrapperConstructor(
            dict(weights=dict(optimizer=adam), arch=dict(optimizer=adam)))(
                model)
    else:
        ow = OptimWrapper(torch.optim.Adam(
            model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-7))
    batches = iter(train_loader(args, args.seed))
    val_batches = iter(train_loader(args, args.seed + 1))
    optimizers = [w.optimizer for w in (
        ow.values() if isinstance(ow, OptimWrapperDict) else [ow])]
    decay_at = int(round(args.lr_decay_at * args.iters))
    t0 = time.time()
    model.train()
    for it in range(args.iters):
        if it == decay_at and args.lr_decay_at < 1:
            for opt in optimizers:
                for group in opt.param_groups:
                    group['lr'] *= args.lr_decay
        data = next(batches)
        if 'hypergrad' in name:
            data = dict(train=data, val=next(val_batches))
        log = model.train_step(data, ow)
        if (it + 1) % max(1, args.iters // 5) == 0:
            parts = ' '.join(f'{k}={float(torch.as_tensor(v).detach()):.4g}'
                             for k, v in log.items()
                             if 'loss' in k)
            print(f'  [{name}] iter {it + 1}/{args.iters} {parts} '
                  f'({time.time() - t0:.0f} s)', flush=True)
    model.eval()
    return model


def restorer_of(model):
    return getattr(model, 'architecture', model)


@torch.no_grad()
def evaluate(model, ds, manual=None) -> Dict[str, float]:
    """Mean shift-max PSNR / SSIM and stage-1 σ̂ over the dataset."""
    net = restorer_of(model)
    old = net.manual_guidance
    if manual is not None:
        net.manual_guidance = manual
    psnrs, ssims, sig = [], [], []
    for i in range(len(ds)):
        (s, ) = net.test_step(pseudo_collate([ds[i]]))
        p, q, _ = shift_max_psnr_ssim(s.pred_img, s.gt_img,
                                      max(s.kernel_size) // 2)
        psnrs.append(p)
        ssims.append(q)
        if s.get('pred_guidance') is not None:
            sig.append(float(s.pred_guidance.mean()))
    net.manual_guidance = old
    return dict(PSNR=float(np.mean(psnrs)), SSIM=float(np.mean(ssims)),
                sigma_hat=float(np.mean(sig)) if sig else None,
                sigma_hat_std=float(np.std(sig)) if sig else None,
                sigma_hat_images=sig or None)


#: PSNR of the paper's guidance ablation on Levin (grayscale deblurring, the
#: official repository's plot/plot_hyper_indruce*.py; σ in %)
PAPER_PSNR = {
    'no guidance': {'1': 32.20, '3': 29.37, '5': 27.48},
    'manual guidance': {'1': 32.76, '3': 29.66, '5': 27.87},
    'proxy (bilevel)': {'1': 32.95, '3': 29.83, '5': 28.05},
}
#: Wiener weights tried (log grid)
WIENER_GRID = [10**(e / 4) for e in range(-24, 5)]


def crop_psnr(pred, gt, border: int = 14) -> float:
    """PSNR (peak 1) of ``pred`` clamped to [0, 1] inside a ``border``."""
    err = (pred.double().clamp(0, 1) - gt.double())[..., border:-border,
                                                     border:-border]
    return float(-10 * np.log10(float(err.square().mean())))


def wiener_crop_psnr(items, weight: float) -> float:
    """Mean :func:`crop_psnr` of gradient Wiener at ``weight`` over
    synthetic items (``inputs`` + ``data_samples`` with ``kernel``)."""
    return float(np.mean([
        crop_psnr(gradient_wiener(it['inputs'][None].double(),
                                  it['data_samples'].kernel[None].double(),
                                  weight)[0, 0],
                  it['data_samples'].gt_img[0]) for it in items]))


def tune_wiener(args, sigma: float) -> float:
    """The gradient-Wiener weight with the best mean PSNR on ``--tune-crops``
    synthetic crops of the *training* images at noise ``sigma`` (Levin is
    never seen), crops of side 128 cropped by the largest kernel radius."""
    ds = SyntheticDeblurDataset(
        train_folders(args), kernels=TRAIN_KERNELS, crop_size=128,
        sigma_range=(sigma, sigma), kernel_pad=None,
        length=args.tune_crops, fixed=True, seed=args.seed + 7)
    items = [ds[i] for i in range(len(ds))]
    scores = [wiener_crop_psnr(items, w) for w in WIENER_GRID]
    return WIENER_GRID[int(np.argmax(scores))]


def evaluate_wiener(ds, weight: float) -> Dict[str, float]:
    psnrs, ssims = [], []
    for i in range(len(ds)):
        item = ds[i]
        s = item['data_samples']
        x = gradient_wiener(item['inputs'][None].double(),
                            s.kernel[None].double(), weight)[0, 0]
        t, bo, l, r = s.crop_pad
        x = x[t:x.shape[0] - bo, l:x.shape[1] - r].clamp(0, 1)
        p, q, _ = shift_max_psnr_ssim(x.float().numpy(), s.gt_img,
                                      max(s.kernel_size) // 2)
        psnrs.append(p)
        ssims.append(q)
    return dict(PSNR=float(np.mean(psnrs)), SSIM=float(np.mean(ssims)))


@torch.no_grad()
def domain_check(models: Dict[str, torch.nn.Module], args,
                 weights: Dict[str, float]) -> Dict[str, dict]:
    """Where a learned model loses to the classical baseline: mean PSNR of
    every model and of gradient Wiener (its tuned weight) at σ = the first
    of ``--sigmas`` on 16 synthetic 128² crops of the *training* folders
    (draws the training never made), blurred (a) with the training's
    generated kernels and (b) with the 8 kernels of Levin image ``im05``.
    (a) vs the Levin table separates the image content from the kernels:
    a model level with Wiener on (a) and (b) but behind it on Levin loses
    on the content of the test images, not on their kernels. Diagnostic
    only: nothing is tuned on it.
    """
    sigma = args.sigmas[0]
    sources = {
        'training crops, generated kernels': TRAIN_KERNELS,
        'training crops, Levin kernels': levin_kernels(),
    }
    out = {}
    for label, kernels in sources.items():
        ds = SyntheticDeblurDataset(
            train_folders(args), kernels=kernels, crop_size=128,
            sigma_range=(sigma / 100, sigma / 100), kernel_pad=37,
            length=16, fixed=True, seed=args.seed + 99)
        items = [ds[i] for i in range(len(ds))]
        row = {}
        for name, model in models.items():
            net = restorer_of(model)
            row[name] = float(np.mean([
                crop_psnr(net.test_step(pseudo_collate([it]))[0].pred_img[0],
                          it['data_samples'].gt_img[0]) for it in items]))
        row[WIENER] = wiener_crop_psnr(
            items, weights[f'{sigma:g}'])
        out[label] = row
    return out


def load_variant(name: str, cfg: dict, args) -> torch.nn.Module:
    """The restorer of a stored variant (``<out-dir>/<key>.pth``)."""
    net = MODELS.build(copy.deepcopy(cfg.get('architecture', cfg)))
    path = osp.join(args.out_dir, f'{variant_key(name)}.pth')
    net.load_state_dict(read_checkpoint(path, 'stored variant'))
    return net.eval()


def variant_key(name: str) -> str:
    return {v: k for k, v in VARIANT_NAMES.items()}[name]


#: the variant tested at the assumed noise levels ``--mismatch-levels``
MISMATCH_VARIANT = 'manual guidance'


def run_args(args, name: Optional[str] = None) -> dict:
    """The options a finished variant must share to be reused; for
    :data:`MISMATCH_VARIANT` (``name``) also ``--mismatch-levels``, the
    assumed noise levels its stored ``mismatch`` PSNRs were measured at."""
    keep = ('iters', 'width', 'stages', 'crop', 'batch', 'lr', 'lr_decay_at',
            'lr_decay', 'train_dirs', 'seed', 'sigmas', 'levin_files',
            'proxy_act')
    if name == MISMATCH_VARIANT:
        keep += ('mismatch_levels', )
    return {k: getattr(args, k) for k in keep}


def levin_kernels() -> list:
    """Levin's eight kernels (those of image ``im05``; the four images
    share them)."""
    return sorted(
        osp.join(LEVIN_ROOT, f) for f in os.listdir(LEVIN_ROOT)
        if f.startswith('im05_') and f.endswith('.mat'))


def bsd68_opts(args) -> dict:
    return dict(images=args.bsd68, crop=args.bsd68_crop,
                sigmas=list(args.sigmas))


def bsd68_dataset(args, sigma: float) -> BlurredImageDataset:
    """``--bsd68`` BSD68 images (central ``--bsd68-crop`` squares), image
    ``i`` blurred with Levin kernel ``i mod 8`` under the Levin protocol at
    noise ``sigma`` (percent)."""
    return BlurredImageDataset(
        BSD68_ROOT, levin_kernels(), noise_sigma=sigma / 100, seed=0,
        crop_size=args.bsd68_crop, num_images=args.bsd68)


def evaluate_bsd68(model, args) -> dict:
    """:func:`evaluate` on :func:`bsd68_dataset` at every ``--sigmas``."""
    t0 = time.time()
    res = {f'{s:g}': evaluate(model, bsd68_dataset(args, s))
           for s in args.sigmas}
    return dict(opts=bsd68_opts(args), results=res,
                eval_s=round(time.time() - t0, 1))


def run_variant(name: str, cfg: dict, args, files) -> dict:
    """Train one variant and evaluate it on Levin; with ``--out-dir`` the
    run is stored (``<key>.json`` + ``<key>.pth``) and reused."""
    key = variant_key(name)
    path = osp.join(args.out_dir, f'{key}.json') if args.out_dir else None
    done = path and read_stored_run(path, run_args(args, name), 'args',
                                    args.report_only)
    if done:
        print(f'[{name}] reused {path}')
        if args.bsd68 and done.get('bsd68', {}).get('opts') != bsd68_opts(
                args):
            # a stored run tested on BSD68 afterwards (and stored again)
            done['bsd68'] = evaluate_bsd68(load_variant(name, cfg, args),
                                           args)
            atomic_write(json.dumps(done, indent=1), path)
        return done
    if args.report_only:
        return None
    t0 = time.time()
    model = train(name, cfg, args)
    train_s = time.time() - t0
    res = {}
    for sigma in args.sigmas:
        ds = LevinDataset(LEVIN_ROOT, noise_sigma=sigma / 100, seed=0,
                          files=files)
        res[f'{sigma:g}'] = evaluate(model, ds)
    mismatch = {}
    if name == MISMATCH_VARIANT:
        ds = LevinDataset(LEVIN_ROOT, noise_sigma=0.03, seed=0, files=files)
        for level in args.mismatch_levels:
            mismatch[f'{level:g}'] = evaluate(model, ds,
                                              manual=level / 100)['PSNR']
    net = restorer_of(model)
    done = dict(args=run_args(args, name), name=name,
                train_s=round(train_s, 1),
                eval_s=round(time.time() - t0 - train_s, 1),
                params=count_params(net),
                results=res, mismatch=mismatch,
                torch=torch.__version__, threads=torch.get_num_threads())
    if args.bsd68:
        done['bsd68'] = evaluate_bsd68(model, args)
    if path:
        atomic_write(json.dumps(done, indent=1), path)
        torch.save(net.state_dict(), osp.join(args.out_dir, f'{key}.pth'))
    return done


def merge_seeds(per_seed: Dict[int, dict]) -> dict:
    """One run per variant from its runs over the training seeds: PSNR /
    SSIM averaged with their spread over seeds (``PSNR_std``), σ̂ pooled over
    seeds and images. A variant missing for a seed is left out."""
    seeds = list(per_seed)
    names = [n for n in per_seed[seeds[0]]
             if all(n in per_seed[s] for s in seeds)]
    out = {}
    for name in names:
        rs = [per_seed[s][name] for s in seeds]
        res = merge_cells([r['results'] for r in rs], seeds)
        mismatch = {}
        for lv in rs[0].get('mismatch', {}):
            mismatch[lv] = float(np.mean([r['mismatch'][lv] for r in rs]))
        out[name] = dict(rs[0], results=res, mismatch=mismatch, seeds=seeds,
                         train_s=float(np.mean([r['train_s'] for r in rs])))
        if all('bsd68' in r for r in rs):
            out[name]['bsd68'] = dict(rs[0]['bsd68'], results=merge_cells(
                [r['bsd68']['results'] for r in rs], seeds))
        else:
            out[name].pop('bsd68', None)
    return out


def merge_cells(tables: list, seeds: list) -> dict:
    """``{σ: cell}`` of several seeds -> mean / std / per-seed PSNR and
    SSIM, σ̂ pooled over seeds and images."""
    res = {}
    for sk in tables[0]:
        cells = [t[sk] for t in tables]
        row = {}
        for m in ('PSNR', 'SSIM'):
            st = seed_stats({s: c[m] for s, c in zip(seeds, cells)})
            row[m], row[f'{m}_std'] = st['mean'], st['std']
        row['per_seed'] = {str(s): {m: c[m] for m in ('PSNR', 'SSIM')}
                           for s, c in zip(seeds, cells)}
        pooled = [v for c in cells for v in (c.get('sigma_hat_images')
                                             or [])]
        row['sigma_hat'] = float(np.mean(pooled)) if pooled else None
        row['sigma_hat_std'] = float(np.std(pooled)) if pooled else None
        row['sigma_hat_images'] = pooled or None
        res[sk] = row
    return res


def results_record(out: dict, args, argv) -> dict:
    """The ``docs/results`` record (see ``tools/misc/results_to_docs.py``):
    one table per test set and σ, the measured rows ranked by PSNR / SSIM
    (mean over the training seeds, their spread beside), the paper's Levin
    PSNR beside them (not ranked); the proxies' σ̂ and the goal."""
    tables = {}
    tests = [('Levin', out['results'], len(out['levin_files']))]
    if out.get('bsd68'):
        tests.append((f'BSD68 + Levin kernels (central {args.bsd68_crop}²)',
                      out['bsd68'], args.bsd68))
    for test, table, n in tests:
        for sigma in args.sigmas:
            sk = f'{sigma:g}'
            rows = {}
            for name, r in table.items():
                cell = r[sk]
                rows[name] = dict(PSNR=round(cell['PSNR'], 2),
                                  SSIM=round(cell['SSIM'], 4), images=n)
                if 'PSNR_std' in cell:
                    rows[name]['PSNR_std'] = round(cell['PSNR_std'], 2)
                if name in out.get('params', {}):
                    rows[name]['params'] = out['params'][name]
            for m in ('PSNR', 'SSIM'):
                order = sorted(rows, key=lambda n: -rows[n][m])
                for n in rows:
                    rows[n].setdefault('rank', {})[m] = order.index(n) + 1
            if test == 'Levin':
                for name, paper in PAPER_PSNR.items():
                    if sk in paper:
                        rows[f'paper: {name} (official plot script)'] = \
                            dict(PSNR=paper[sk])
            tables[f'{test}, σ = {sk} %'] = rows
    extra = {}
    check = out.get('domain_check')
    if check:
        s0 = f'{args.sigmas[0]:g}'
        title = (f'Domain check, σ = {s0} %: mean PSNR of 16 held-out '
                 'training crops (128²) beside the '
                 f'{len(out["levin_files"])} Levin pairs')
        cols = list(check) + ['Levin pairs']
        tables[title] = {
            name: dict({c: round(check[c][name], 2) for c in check},
                       **{'Levin pairs': round(out['results'][name][s0]
                                               ['PSNR'], 2), 'images': 16})
            for name in next(iter(check.values()))}
        extra['table_metrics'] = {title: cols}
    if out.get('sigma_hat'):
        title = 'Stage-1 proxy: mean σ̂ (%) at each true σ, r(σ̂, σ)'
        cols = [f'σ = {s:g} %' for s in args.sigmas] + ['r(σ̂, σ)']
        tables[title] = {
            f'{name}, {test}': dict(
                {f'σ = {s:g} %': round(100 * st[f'{s:g}']['mean'], 2)
                 for s in args.sigmas},
                **{'r(σ̂, σ)': None if st['pearson_r'] is None else
                   round(st['pearson_r'], 3)})
            for name, per in out['sigma_hat'].items()
            for test, st in per.items()}
        extra.setdefault('table_metrics', {})[title] = cols
    seeds = args.seeds or [args.seed]
    return dict(**extra,
        command='python projects/reproductions/bench_hyper_guidance.py ' +
        shlex.join(argv), result=tables,
        metrics=['PSNR', 'PSNR_std', 'SSIM'] if len(seeds) > 1 else
        ['PSNR', 'SSIM'], decimals=3 if len(seeds) > 1 else 4,
        count='images', goal=out['goal'],
        note=(f'Trained {args.iters} iterations each (batch {args.batch}, '
              f'{args.crop}² gray crops of {", ".join(args.train_dirs)}, '
              f'width {args.width}, Adam {args.lr:g}, proxies\' last '
              f'activation {args.proxy_act}), training seeds '
              f'{", ".join(map(str, seeds))}: PSNR / SSIM are means over '
              'them, PSNR_std their spread; the paper\'s rows are its PSNR '
              'only (SSIM not reported per variant).'),
        train_s=out['train_s'])


#: the goal's minimum Pearson r between the bilevel proxy's σ̂ and the true σ
ALIVE_R = 0.5


def fmt_cell(cell: dict, metric: str, digits: int) -> str:
    """``mean`` or ``mean ± std`` (over training seeds) of a result cell."""
    v = f'{cell[metric]:.{digits}f}'
    std = cell.get(f'{metric}_std')
    return v if std is None else f'{v} ± {std:.{digits}f}'


def sigma_stats(runs: dict, sigmas) -> Dict[str, dict]:
    """Per proxy variant and test set: σ̂'s mean and std over images (and
    seeds) at each σ, and the Pearson r of the per-image σ̂ with the true σ
    over all of them (None when σ̂ is constant: a dead proxy)."""
    out = {}
    for name, run in runs.items():
        tests = {'Levin': run['results']}
        if 'bsd68' in run:
            tests['BSD68'] = run['bsd68']['results']
        per = {}
        for test, res in tests.items():
            if res[f'{sigmas[0]:g}'].get('sigma_hat_images') is None:
                continue
            xs, ys, st = [], [], {}
            for s in sigmas:
                v = np.asarray(res[f'{s:g}']['sigma_hat_images'])
                st[f'{s:g}'] = dict(mean=float(v.mean()), std=float(v.std()))
                xs += [s / 100] * len(v)
                ys += list(v)
            st['pearson_r'] = pearson(xs, ys)
            per[test] = st
        if per:
            out[name] = per
    return out


def pearson(xs, ys):
    """Pearson's r, None when either side is constant."""
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    if x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def guidance_goal(levin: dict, bsd: dict, sig: dict, sigmas) -> dict:
    """The issue's criterion: learned guidance (the bilevel proxy) > manual
    guidance > no guidance in mean PSNR at every σ on Levin and on BSD68,
    with the bilevel proxy alive (Pearson r(σ̂, σ) >= ``ALIVE_R`` on each
    test set)."""
    names = ('proxy (bilevel)', 'manual guidance', 'no guidance')
    tests = {'Levin': levin, 'BSD68': bsd}
    values, ok = {}, True
    for test, table in tests.items():
        if not all(n in table for n in names):
            ok = False
            values[test] = 'missing'
            continue
        for s in sigmas:
            sk = f'{s:g}'
            psnr = {n: round(table[n][sk]['PSNR'], 3) for n in names}
            order = psnr[names[0]] > psnr[names[1]] > psnr[names[2]]
            values[f'{test} σ={sk}%'] = dict(psnr, ordered=order)
            ok &= order
        r = sig.get(names[0], {}).get(test, {}).get('pearson_r')
        values[f'{test} r(σ̂, σ) bilevel'] = r
        ok &= r is not None and r >= ALIVE_R
    return dict(criterion=(
        'learned guidance (bilevel proxy) > manual guidance > no guidance '
        'in mean PSNR over the training seeds at every σ on Levin and on '
        'BSD68 (Levin kernels), with the bilevel proxy alive: Pearson r '
        f'of its per-image σ̂ with the true σ >= {ALIVE_R} on each test set'),
        values=values, reached=bool(ok))


def strip_images(out):
    """``out`` without the per-image σ̂ lists (kept in the stored runs)."""
    if isinstance(out, dict):
        return {k: strip_images(v) for k, v in out.items()
                if k != 'sigma_hat_images'}
    return out


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--iters', type=int, default=300)
    p.add_argument('--width', type=int, default=16)
    p.add_argument('--stages', type=int, default=5)
    p.add_argument('--crop', type=int, default=64)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--lr-decay-at', type=float, default=1.0,
                   help='fraction of --iters after which every learning '
                   'rate is multiplied by --lr-decay (1: never)')
    p.add_argument('--lr-decay', type=float, default=0.1)
    p.add_argument('--train-dirs', nargs='+', default=IMG_DIRS,
                   help='training image folders, relative to '
                   '../shared/data')
    p.add_argument('--sigmas', type=float, nargs='+', default=[1, 3, 5],
                   help='test noise levels in percent')
    p.add_argument('--mismatch-levels', type=float, nargs='+',
                   default=[1, 3, 5, 7])
    p.add_argument('--levin-files', type=int, default=8,
                   help='Levin pairs, evenly spread over the 32 (32: all)')
    p.add_argument('--hypergradient', action='store_true')
    p.add_argument('--variants', nargs='+', choices=list(VARIANT_NAMES),
                   default=None,
                   help='train only these (default: none manual naive '
                   'bilevel, + hypergrad with --hypergradient)')
    p.add_argument('--wiener', action='store_true',
                   help='add the classical baseline: gradient-Wiener '
                   'deconvolution, its weight tuned per σ on training crops')
    p.add_argument('--tune-crops', type=int, default=48)
    p.add_argument('--domain-check', action='store_true',
                   help='with --wiener and --out-dir: every stored variant '
                   'and Wiener on held-out training crops blurred with the '
                   'generated and with Levin\'s kernels (where the gap to '
                   'the baseline comes from)')
    p.add_argument('--out-dir', default=None,
                   help='store each variant (<key>.json, <key>.pth) and '
                   'reuse finished ones: variants can run in separate '
                   'processes, then one call reports them all')
    p.add_argument('--report-only', action='store_true',
                   help='train nothing; report the variants in --out-dir')
    p.add_argument('--results-json', default=None,
                   help='also write the docs/results record here')
    p.add_argument('--bsd68', type=int, default=0,
                   help='also test on this many BSD68 images (evenly spread; '
                   '68: all) blurred with Levin\'s 8 kernels under the Levin '
                   'protocol at every --sigmas (0: Levin only)')
    p.add_argument('--bsd68-crop', type=int, default=192,
                   help='central square of each BSD68 image tested')
    p.add_argument('--proxy-act', choices=('relu', 'softplus'),
                   default='relu',
                   help="the proxies' last activation: relu (official) or "
                   'softplus (a proxy that cannot die, see NoiseLevelProxy)')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--seeds', type=int, nargs='+', default=None,
                   help='training seeds (each stored in <out-dir>/seed_<s>); '
                   'the tables report the mean over them and their spread')
    args = p.parse_args(argv)
    if args.report_only and not args.out_dir:
        p.error('--report-only needs --out-dir')
    if args.domain_check and not (args.wiener and args.out_dir):
        p.error('--domain-check needs --wiener and --out-dir')
    if args.domain_check and args.seeds:
        p.error('--domain-check reads one seed\'s models: use --seed')
    missing = [d for d in args.train_dirs
               if not osp.isdir(osp.join(SHARED, d))]
    if missing:
        raise FileNotFoundError(
            f'training folders {missing} not found under {SHARED}')
    if args.results_json:
        check_record_path(args.results_json)
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
    torch.set_num_threads(args.threads)
    init_default_scope('mmfusenas')
    all_files = sorted(f for f in os.listdir(LEVIN_ROOT)
                       if f.endswith('.mat'))
    idx = np.linspace(0, len(all_files) - 1, args.levin_files).round()
    files = [all_files[int(i)] for i in idx]
    print(f'Levin pairs ({len(files)}): {files}')

    seeds = args.seeds or [args.seed]
    cfgs = variants(args)
    per_seed = collect_seed_runs(
        seeds, list(cfgs),
        lambda name, seed, out: run_variant(
            name, cfgs[name],
            argparse.Namespace(**dict(vars(args), seed=seed, out_dir=out)),
            files),
        args.out_dir, per_seed_dirs=bool(args.seeds))
    args.seed = seeds[0]
    runs = merge_seeds(per_seed)
    results = {n: r['results'] for n, r in runs.items()}
    train_s = {n: r['train_s'] for n, r in runs.items()}
    params = {n: r['params'] for n, r in runs.items()}
    bsd = {n: r['bsd68']['results'] for n, r in runs.items()
           if 'bsd68' in r}
    if args.wiener:
        weights = {}
        for sigma in args.sigmas:
            sk = f'{sigma:g}'
            w = tune_wiener(args, sigma / 100)
            weights[sk] = w
            ds = LevinDataset(LEVIN_ROOT, noise_sigma=sigma / 100, seed=0,
                              files=files)
            results.setdefault(WIENER, {})[sk] = evaluate_wiener(ds, w)
            if args.bsd68:
                bsd.setdefault(WIENER, {})[sk] = evaluate_wiener(
                    bsd68_dataset(args, sigma), w)
        print('gradient-Wiener weights (tuned on training crops): ' +
              ', '.join(f'σ={k}%: {v:.3g}' for k, v in weights.items()))
        train_s[WIENER] = 0.0
        params[WIENER] = 0

    tests = {f'Levin (shift-max), {len(files)} images': results}
    if bsd:
        tests[f'BSD68 + Levin kernels (shift-max), {args.bsd68} images, '
              f'central {args.bsd68_crop}²'] = bsd
    for title, table in tests.items():
        rows = [['model', 'params', 'train s'] +
                [f'σ={s:g}% PSNR / SSIM' for s in args.sigmas]]
        for name in table:
            rows.append([name, f'{params[name]:,}', f'{train_s[name]:.0f}'] +
                        [f"{fmt_cell(table[name][f'{s:g}'], 'PSNR', 2)} / "
                         f"{fmt_cell(table[name][f'{s:g}'], 'SSIM', 4)}"
                         for s in args.sigmas])
        if title.startswith('Levin'):
            for name, paper in PAPER_PSNR.items():
                rows.append([f'paper: {name}', '', ''] + [
                    f"{paper[f'{s:g}']:.2f}" if f'{s:g}' in paper else ''
                    for s in args.sigmas])
        print(AsciiTable(rows, title=title).table)
    sig = sigma_stats(runs, args.sigmas)
    rows = [['model', 'test set'] + [f'σ={s:g}%' for s in args.sigmas] +
            ['r(σ̂, σ)']]
    for name, per_test in sig.items():
        for test, st in per_test.items():
            rows.append([name, test] + [
                f"{100 * st[f'{s:g}']['mean']:.2f} ± "
                f"{100 * st[f'{s:g}']['std']:.2f}%" for s in args.sigmas] +
                [f"{st['pearson_r']:.3f}" if st['pearson_r'] is not None
                 else 'constant'])
    print(AsciiTable(rows, title='stage-1 proxy σ̂ (mean ± std over images '
                     'and seeds)').table)

    mismatch = runs.get('manual guidance', {}).get('mismatch', {})
    proxy = {n: results[n]['3']['PSNR'] for n in runs
             if n.startswith('proxy') and '3' in results[n]}
    if mismatch:
        rows = [['assumed σ'] + [f'{lv}%' for lv in mismatch]]
        rows.append(['manual guidance'] +
                    [f'{v:.2f}' for v in mismatch.values()])
        for n, v in proxy.items():
            rows.append([f'{n} (no σ input)'] + [f'{v:.2f}'] * len(mismatch))
        print(AsciiTable(rows, title='mismatch, true σ = 3 % (PSNR)').table)
    out = dict(args=vars(args), levin_files=files, train_s=train_s,
               params=params, results=results, mismatch_manual=mismatch,
               mismatch_proxy=proxy, sigma_hat=sig)
    if bsd:
        out['bsd68'] = bsd
    out['goal'] = guidance_goal(results, bsd, sig, args.sigmas)
    print(f"goal: {out['goal']['criterion']} -> reached: "
          f"{out['goal']['reached']}")
    if args.wiener:
        out['wiener_weights'] = weights
    if args.domain_check:
        cfgs = variants(args)
        check = domain_check(
            {n: load_variant(n, cfgs[n], args) for n in runs}, args, weights)
        rows = [['σ = %g %%, PSNR' % args.sigmas[0]] + list(
            next(iter(check.values())))]
        for label, row in check.items():
            rows.append([label] + [f'{v:.2f}' for v in row.values()])
        rows.append(['Levin (the table above)'] + [
            f"{results[n][f'{args.sigmas[0]:g}']['PSNR']:.2f}"
            for n in next(iter(check.values()))])
        print(AsciiTable(rows, title='domain check: content vs '
                         'kernels').table)
        out['domain_check'] = check
    if args.results_json:
        rec = results_record(out, args, argv)
        write_results_record(args.results_json, rec.pop('command'), ROOT,
                             rec.pop('result'), threads=args.threads,
                             RESULT=out, **rec)
    print('RESULT ' + json.dumps(strip_images(out)))
    return out


if __name__ == '__main__':
    main()
