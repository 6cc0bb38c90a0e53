"""Per-metric timing of the fusion metrics on the shared TNO pairs.

Usage::

    python benchmarks/bench_fusion_metrics.py [--preset cddfuse]
        [--pairs 5] [--repeat 3]

F = round((A + B) / 2) stands in for a fused image. Reported: the median
time per metric over pairs x repeats for all 17 metric keys (Nabf, MS_SSIM
and the four FMI variants included), then the end-to-end time per pair of
the preset's default suite and of the FULL suite (all 17 keys), each with
PASS / FAIL against the goal of 0.3 s for a 768x576 pair on 2 CPU cores.
Wall-clock medians decide PASS / FAIL; process CPU time (all threads) and
the load average are printed too, because the machine may be shared.
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
    FUSION_METRICS, FUSION_PRESETS, resolve_metrics)

TNO = osp.join(osp.dirname(ROOT), 'shared', 'data', 'fusion', 'TNO')
GOAL_S = 0.3


def _time(fn, pairs, repeat):
    """Median wall and CPU seconds of ``fn(a, b, f)`` over pairs x repeat."""
    wall, cpu = [], []
    for a, b, f in pairs:
        for _ in range(repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            fn(a, b, f)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--preset', default='cddfuse')
    parser.add_argument('--pairs', type=int, default=5)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--fmi', action='store_true',
                        help='no effect (FMI is always timed now); kept '
                        'for old command lines')
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
    full = tuple(FUSION_METRICS)
    fns = preset['fns']
    load0 = os.getloadavg()[0]

    rows = [['metric', 'median ms / pair', 'cpu ms', 'value (pair 1)']]
    for m in full:
        wall, cpu = _time(fns[m], pairs, args.repeat)
        tag = '' if m in default else ' *'
        rows.append([m + tag, f'{wall * 1e3:.1f}', f'{cpu * 1e3:.1f}',
                     f'{fns[m](*pairs[0]):.4f}'])

    # end-to-end suite times (what a user pays per pair)
    def suite(names):
        return lambda a, b, f: [fns[m](a, b, f) for m in names]

    suites = [['suite', 'median ms / pair', 'cpu ms', 'goal 300 ms']]
    for label, names in (('default', default), ('FULL', full)):
        wall, cpu = _time(suite(names), pairs, args.repeat)
        suites.append([f'{label} ({len(names)} metrics)',
                       f'{wall * 1e3:.1f}', f'{cpu * 1e3:.1f}',
                       'PASS' if wall <= GOAL_S else 'FAIL'])
    title = (f'preset {args.preset}, {len(pairs)} TNO pairs 768x576, '
             f'{args.repeat} repeats, cv2 threads {cv2.getNumThreads()}, '
             f'{os.cpu_count()} CPUs, load {load0:.2f} -> '
             f'{os.getloadavg()[0]:.2f}')
    print(title)
    print(AsciiTable(rows).table)
    print('* not in the preset\'s default suite')
    print(AsciiTable(suites).table)


if __name__ == '__main__':
    main()
