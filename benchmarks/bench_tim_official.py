"""Cost of the official TIM networks at the paper's TNO size, 448 x 620.

Usage::

    python benchmarks/bench_tim_official.py [--repeats 5] [--warmup 1]
        [--threads N] [--device cpu] [--shape 448 620]

For each official configuration (``configs/tim/fusion_*_official.py``) the
whole ``fusion_net`` is measured on one ``(1, 2, H, W)`` pair: parameters,
MACs and FLOPs (``2 x MACs`` + all other operations; see
``docs/estimators.md``) and the median inference latency over ``--repeats``
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
import argparse
import os.path as osp
import sys
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmfusenas.registry import MODELS  # noqa: E402
from mmfusenas.search.estimators import (  # noqa: E402
    count_flops, count_params, device_name, measure_latency, num_threads)

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
    if count.uncounted:
        print(f'warning: operators without a counting rule: '
              f'{count.uncounted}')
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
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
    print('FLOPs = 2 x MACs + every other floating-point operation; the '
          "paper's \"FLOPs\" match our MACs (light model). Paper times: "
          'device not stated in Table 1 (GTX 1070 GPU used for the search, '
          'GPU latency in the regulariser); ours are CPU times.')
    for note in notes:
        print(f'note: {note}')


if __name__ == '__main__':
    main()
