"""Per-metric timing of the fusion metrics on the shared TNO pairs.

Usage::

    python benchmarks/bench_fusion_metrics.py [--preset cddfuse]
        [--pairs 5] [--repeat 3] [--fmi]

F = round((A + B) / 2) stands in for a fused image. Reported: median time
per metric over pairs x repeats, and the total of the preset's default
suite per pair (goal: <= 0.3 s for a 768x576 pair on 2 CPU cores). The
four FMI variants are opt-in (``--fmi``, or ``--preset`` 'all' lists) as
they cost about a second each.
"""
import argparse
import os
import os.path as osp
import sys
import time

import cv2
import numpy as np
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmfusenas.evaluation.functional.fusion import (  # noqa: E402
    FUSION_PRESETS, resolve_metrics)

TNO = osp.join(osp.dirname(ROOT), 'shared', 'data', 'fusion', 'TNO')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--preset', default='cddfuse')
    parser.add_argument('--pairs', type=int, default=5)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--fmi', action='store_true',
                        help='also time the four FMI variants (1 repeat)')
    parser.add_argument('--data', default=TNO, help='folder with ir/ vi/')
    args = parser.parse_args()
    if not osp.isdir(args.data):
        sys.exit(f'data folder not found: {args.data}')
    preset = FUSION_PRESETS[args.preset]
    gray = preset['gray']
    stems = []
    for name in sorted(os.listdir(osp.join(args.data, 'ir'))):
        a = cv2.imread(osp.join(args.data, 'ir', name))
        if a is not None and a.shape[:2] == (576, 768):
            stems.append(name)
        if len(stems) == args.pairs:
            break
    pairs = []
    for name in stems:
        a = gray(cv2.imread(osp.join(args.data, 'ir', name)))
        b = gray(cv2.imread(osp.join(args.data, 'vi', name)))
        pairs.append((a, b, np.round((a + b) / 2)))
    default = resolve_metrics(args.preset)
    names = list(default)
    if args.fmi:
        names += [m for m in ('FMI_pixel', 'FMI_gradient', 'FMI_dct',
                              'FMI_wavelet') if m not in names]
    fns = preset['fns']
    rows = [['metric', 'median ms / pair', 'value (pair 1)']]
    med = {}
    for m in names:
        reps = 1 if m.startswith('FMI') else args.repeat
        ts = []
        for a, b, f in (pairs if reps > 1 else pairs[:1]):
            for _ in range(reps):
                t0 = time.perf_counter()
                v = fns[m](a, b, f)
                ts.append(time.perf_counter() - t0)
        med[m] = float(np.median(ts))
        rows.append([m, f'{med[m] * 1e3:.1f}',
                     f'{fns[m](*pairs[0]):.4f}'])
    # end-to-end suite time (what a user pays per pair)
    suite = []
    for a, b, f in pairs:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for m in default:
                fns[m](a, b, f)
            suite.append(time.perf_counter() - t0)
    total = float(np.median(suite))
    rows.append([f'suite ({len(default)} metrics)', f'{total * 1e3:.1f}',
                 'PASS <= 300 ms' if total <= 0.3 else 'ABOVE 300 ms goal'])
    title = (f'preset {args.preset}, {len(pairs)} TNO pairs 768x576, '
             f'{args.repeat} repeats, cv2 threads {cv2.getNumThreads()}')
    table = AsciiTable(rows, title=title)
    table.inner_footing_row_border = True
    print(table.table)


if __name__ == '__main__':
    main()
