"""The official TIM and RUAS networks' cost at the papers' sizes, beside
the papers' tables.

Modes (``--mode NAME``; ``--mode NAME --help`` lists its options):

* ``tim_cost`` (default): parameters, MACs, FLOPs and latency of the
  official TIM networks at the paper's TNO size 448 x 620, beside TIM
  Tables 1 and 8 (``docs/methods/tim_networks.md``);
* ``ruas``: cost of RUAS_s / RUAS / RUAS_A at the LOL size 600 x 400 beside
  TPAMI Table 5, and PSNR / SSIM of the official TPAMI weights
  (``docs/methods/ruas.md``).

Run from the repository root; each prints its tables and ends with one
line ``RESULT {json}``. The latency of any network, eager and optimised,
beside the authors' code is ``benchmarks/bench_inference.py``.
"""
import argparse
import functools
import glob
import importlib.util
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from PIL import Image
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = osp.join(osp.dirname(ROOT), 'shared')

from mmfusenas.evaluation.functional import psnr, ssim_uint8  # noqa: E402
from mmfusenas.models.enhancers import to_uint8  # noqa: E402
from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.search.estimators import (  # noqa: E402
    count_flops, count_params, device_name, measure_latency, num_threads)
from mmfusenas.benchmark.cli_modes import run_mode  # noqa: E402
from mmfusenas.utils.checkpoint import read_checkpoint  # noqa: E402


DOC_TIM_COST = """Cost of the official TIM networks at the paper's TNO size, 448 x 620.

Usage::

    python projects/reproductions/bench_official_cost.py --mode tim_cost [--repeats 5] [--warmup 1]
        [--threads N] [--device cpu] [--shape 448 620]

For each official configuration (``configs/tim/fusion_*_official.py``) the
whole ``fusion_net`` is measured on one ``(1, 2, H, W)`` pair: parameters,
MACs and FLOPs (``2 x MACs``, ``torch.utils.flop_counter``; see
``docs/user_guides/estimators.md``) and the median inference latency over ``--repeats``
timed passes after ``--warmup`` (``torch.no_grad()``, eval mode). Stage 1
of the two-stage IVIF model is also measured alone (the paper's
``lambda = 0.5`` network of Table 8).

448 and 620 are multiples of 4, so the multi-scale cell needs no padding
at this size; another ``--shape`` is padded up to the config's
``pad_size_divisor`` and the table says so.

The paper's figures beside ours: Table 1 (TNO, "ten pairs with size of
448x620"): TIM_w/oL 1.232 M parameters, 194.63 G "FLOPs", 0.145 s;
TIM_w/L 0.127 M, 35.39 G, 0.001 s. Table 8: lambda = 0.5 -> 0.995 M,
0.0769 s; lambda = 2 -> 0.127 M, 0.0012 s. The paper does not say on which
device the times were taken (its experiments ran on a GTX 1070 GPU and an
i7-8700 CPU, and its latency regulariser uses GPU latency), nor what its
"FLOPs" count; our MACs match its figure for the light model, so its
"FLOPs" are most likely multiply-accumulates. There are no paper figures
for the medical models.
"""


# name -> (config, paper (params M, "FLOPs" G, time s) or None)
MODELS_TO_RUN: Dict[str, Tuple[str, Optional[Tuple[float, float, float]]]] = {
    'IVIF two-stage (TIM_w/oL)':
    ('fusion_ivif_official.py', (1.232, 194.63, 0.145)),
    'IVIF light (TIM_w/L)':
    ('fusion_ivif_light_official.py', (0.127, 35.39, 0.001)),
    'MRI-CT two-stage': ('fusion_mri_ct_official.py', None),
    'MRI-PET two-stage': ('fusion_mri_pet_official.py', None),
    'MRI-SPECT two-stage': ('fusion_mri_spect_official.py', None),
}
#: Table 8, lambda = 0.5 (the stage-1 network): params M, time s
STAGE1_PAPER = (0.995, None, 0.0769)


def measure(net: torch.nn.Module, x: torch.Tensor, repeats: int,
            warmup: int) -> Dict[str, float]:
    count = count_flops(net, x)
    stats = measure_latency(net, x, repeats=repeats, warmup=warmup)
    return dict(
        params=count_params(net),
        macs=count.macs,
        flops=count.flops,
        latency_ms=stats.median_ms,
        min_ms=stats.min_ms)


def row(name: str, res: Dict[str, float], paper) -> list:
    paper = paper or (None, None, None)

    def fmt(value, spec):
        return '-' if value is None else format(value, spec)

    return [
        name, f'{res["params"] / 1e6:.3f}', f'{res["macs"] / 1e9:.2f}',
        f'{res["flops"] / 1e9:.2f}', f'{res["latency_ms"]:.0f}',
        f'{res["min_ms"]:.0f}',
        fmt(paper[0], '.3f'),
        fmt(paper[1], '.2f'),
        fmt(paper[2], 'g')
    ]


def main_tim_cost() -> None:
    parser = argparse.ArgumentParser(description=DOC_TIM_COST)
    parser.add_argument('--shape', type=int, nargs=2, default=(448, 620))
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    device = torch.device(args.device)
    rows = []
    notes = []
    with num_threads(args.threads):
        for name, (cfg_name, paper) in MODELS_TO_RUN.items():
            cfg = Config.fromfile(osp.join(ROOT, 'configs', 'tim', cfg_name))
            torch.manual_seed(0)
            model = MODELS.build(cfg.model)
            div = model.data_preprocessor.pad_size_divisor
            shape = tuple(-(-s // div) * div for s in args.shape)
            if shape != tuple(args.shape):
                notes.append(f'{name}: {args.shape[0]}x{args.shape[1]} '
                             f'padded to {shape[0]}x{shape[1]}')
            net = model.fusion_net.to(device)
            x = torch.rand(1, 2, *shape, device=device)
            print(f'measuring {name} ...', flush=True)
            rows.append(
                row(name, measure(net, x, args.repeats, args.warmup), paper))
            if hasattr(net, 'stage1') and name.startswith('IVIF'):
                rows.append(
                    row('  its stage 1 (N_F, Table 8 lambda=0.5)',
                        measure(net.stage1, x, args.repeats, args.warmup),
                        STAGE1_PAPER))
        where = device_name(device)
    header = [
        'model', 'params (M)', 'MACs (G)', 'FLOPs (G)', 'latency (ms)',
        'min (ms)', 'paper params (M)', 'paper "FLOPs" (G)', 'paper time (s)'
    ]
    print(f'\ninput 1x2x{args.shape[0]}x{args.shape[1]}, latency = median of '
          f'{args.repeats} runs after {args.warmup} warm-up on {where}, '
          f'torch {torch.__version__}')
    print(AsciiTable([header] + rows).table)
    print('FLOPs = 2 x MACs (convolutions and matrix products); the '
          "paper's \"FLOPs\" match our MACs (light model). Paper times: "
          'device not stated in Table 1 (GTX 1070 GPU used for the search, '
          'GPU latency in the regulariser); ours are CPU times.')
    for note in notes:
        print(f'note: {note}')
    print('RESULT ' + json.dumps(
        dict(shape=list(args.shape), device=where,
             rows=[dict(zip(header, r)) for r in rows], notes=notes),
        default=str))


DOC_RUAS = """Cost and quality of the RUAS enhancement variants at the paper's LOL size.

Usage::

    python projects/reproductions/bench_official_cost.py --mode ruas [--repeats 5] [--warmup 1]
        [--threads N] [--device cpu] [--skip-quality]

Cost (``mmfusenas.search.estimators``): parameters, MACs / FLOPs
(``FLOPs = 2 x MACs`` + every other floating-point operation) and the
median latency of ``--repeats`` forward passes after ``--warmup`` on one
600 x 400 LOL image (``(1, 3, 400, 600)``), for RUAS_s, RUAS and RUAS_A
(``configs/ruas/ruas_{s,,a}_lol.py``). RUAS_A runs its noise removal only
when the estimated noise level reaches 0.035, so it is measured with the
official LOL weights on two real images: ``00271`` (noisy: denoiser runs)
and ``00001`` (clean: skipped). Paper, TPAMI Table 5 (LOL, 600 x 400):
params 0.001 / 0.003 / 0.037 M, "FLOPs" 0.281 / 0.832 / 8.833 G, time
0.006 / 0.016 / 0.010 s (device not stated). The paper's "FLOPs" match our
MACs (multiply-accumulates).

Quality (``mmfusenas.evaluation.functional``): PSNR / SSIM of the
converted official TPAMI weights (``../shared/checkpoints/ruas_official``,
loaded with ``weights_only=True``) on the shared samples: ``lol/test`` vs
``lol/gt`` and ``LOL/eval15`` (``lol.pt``), ``mit/test`` vs ``mit/gt``
(``mit.pt``), for RUAS_A and for its scene module alone (RUAS_s); outputs
quantised as the official code saves them (truncation), one image at a
time. Paper Table 5 (100 test pairs, not these samples): MIT 21.018 /
0.855 (RUAS_s and RUAS_A), LOL 16.038 / 0.513 (RUAS_s), 19.751 / 0.735
(RUAS_A).
"""


LOWLIGHT = osp.join(SHARED, 'data', 'lowlight')
WEIGHTS = osp.join(SHARED, 'checkpoints', 'ruas_official')
CONVERTER = osp.join(ROOT, 'tools', 'model_converters',
                     'ruas_official_to_mmfusenas.py')

#: variant -> (config, paper params M, paper "FLOPs" G, paper time s)
VARIANTS: Dict[str, Tuple[str, float, float, float]] = {
    'RUAS_s': ('ruas_s_lol.py', 0.001, 0.281, 0.006),
    'RUAS': ('ruas_lol.py', 0.003, 0.832, 0.016),
    'RUAS_A': ('ruas_a_lol.py', 0.037, 8.833, 0.010),
}
#: LOL test images on which RUAS_A's gate is open / closed (lol.pt)
NOISY, CLEAN = '00271', '00001'
#: (name, weights, low-light folder, GT folder)
QUALITY_SETS = [
    ('lol/test (5)', 'lol', 'lol/test', 'lol/gt'),
    ('LOL/eval15 (15)', 'lol', 'LOL/eval15/low', 'LOL/eval15/high'),
    ('mit/test (5)', 'mit', 'mit/test', 'mit/gt'),
]


@functools.lru_cache(maxsize=None)
def load_converter():
    """The converter tool as a module (its key mapping)."""
    spec = importlib.util.spec_from_file_location('ruas_converter', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_rgb(path: str) -> torch.Tensor:
    """``(1, 3, H, W)`` float in ``[0, 1]``, as the official test reads."""
    arr = np.array(Image.open(path).convert('RGB'))
    return torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255


def build(variant: str, weights: Optional[str] = None) -> torch.nn.Module:
    """The variant's network (official weights converted when given)."""
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'ruas', VARIANTS[variant][0]))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if weights is not None:
        converter = load_converter()
        official = read_checkpoint(
            osp.join(WEIGHTS, f'{weights}.pt'), 'official RUAS weights')
        state_dict, _ = converter.convert_state_dict(
            official, model.state_dict(), scene_only=variant == 'RUAS_s')
        model.load_state_dict(state_dict, strict=True)
    return model.network.eval()



def cost_rows(device: torch.device, repeats: int, warmup: int) -> List[list]:
    noisy = read_rgb(osp.join(LOWLIGHT, 'lol', 'test', f'{NOISY}.png'))
    clean = read_rgb(osp.join(LOWLIGHT, 'lol', 'test', f'{CLEAN}.png'))
    runs = [
        ('RUAS_s', build('RUAS_s'), noisy, 'RUAS_s'),
        ('RUAS', build('RUAS'), noisy, 'RUAS'),
        (f'RUAS_A, {NOISY} (denoiser runs)', build('RUAS_A',
                                                   'lol'), noisy, 'RUAS_A'),
        (f'RUAS_A, {CLEAN} (denoiser skipped)', build('RUAS_A',
                                                      'lol'), clean, 'RUAS_A'),
    ]
    rows = []
    for name, net, x, variant in runs:
        print(f'measuring {name} ...', flush=True)
        res = measure(net.to(device), x.to(device), repeats, warmup)
        _, p_params, p_flops, p_time = VARIANTS[variant]
        rows.append([
            name, f'{res["params"]:,}', f'{res["params"] / 1e6:.3f}',
            f'{res["macs"] / 1e9:.3f}', f'{res["flops"] / 1e9:.3f}',
            f'{res["latency_ms"]:.0f}', f'{p_params:.3f}', f'{p_flops:.3f}',
            f'{p_time:.3f}'
        ])
    return rows


def quality_rows(device: torch.device) -> List[list]:
    rows = []
    for set_name, weights, low_dir, gt_dir in QUALITY_SETS:
        lows = sorted(glob.glob(osp.join(LOWLIGHT, low_dir, '*.png')))
        for variant in ('RUAS_s', 'RUAS_A'):
            net = build(variant, weights).to(device)
            scores = []
            for path in lows:
                gt = read_rgb(osp.join(LOWLIGHT, gt_dir,
                                       osp.basename(path)))[0]
                with torch.no_grad():
                    pred = net(read_rgb(path).to(device))[0].cpu()
                saved = to_uint8(pred).float() / 255
                scores.append((psnr(saved, gt), ssim_uint8(saved, gt)))
            mean = np.mean(scores, axis=0)
            rows.append([
                set_name, f'{variant} ({weights}.pt)', f'{mean[0]:.3f}',
                f'{mean[1]:.4f}'
            ])
    return rows


RUAS_COST_HEADER = [
    'variant', 'params', 'params (M)', 'MACs (G)', 'FLOPs (G)',
    'latency (ms)', 'paper params (M)', 'paper "FLOPs" (G)', 'paper time (s)'
]
RUAS_QUALITY_HEADER = ['images', 'model', 'PSNR (dB)', 'SSIM']


def main_ruas() -> None:
    parser = argparse.ArgumentParser(
        description=DOC_RUAS, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--skip-quality',
        action='store_true',
        help='only parameters, FLOPs and latency')
    args = parser.parse_args()
    device = torch.device(args.device)
    with num_threads(args.threads):
        costs = cost_rows(device, args.repeats, args.warmup)
        quality = [] if args.skip_quality else quality_rows(device)
        where = device_name(device)
    print(f'\ninput 1x3x400x600 (LOL), latency = median of {args.repeats} '
          f'runs after {args.warmup} warm-up on {where}, torch '
          f'{torch.__version__}')
    print(
        AsciiTable([RUAS_COST_HEADER] + costs).table)
    print("The paper's \"FLOPs\" are multiply-accumulates (compare MACs); "
          'its times are on an unstated device (ours: CPU).')
    if quality:
        print('\nofficial TPAMI weights, outputs truncated to 8 bits as '
              'saved by the official code')
        print(
            AsciiTable([RUAS_QUALITY_HEADER] + quality).table)
    print('RESULT ' + json.dumps(
        dict(device=where,
             cost=[dict(zip(RUAS_COST_HEADER, r)) for r in costs],
             quality=[dict(zip(RUAS_QUALITY_HEADER, r)) for r in quality]),
        default=str))


MODES = {'tim_cost': main_tim_cost, 'ruas': main_ruas}


def main(argv=None):
    """Run the mode ``--mode`` names (default ``tim_cost``)."""
    return run_mode(MODES, argv)


if __name__ == '__main__':
    main()
