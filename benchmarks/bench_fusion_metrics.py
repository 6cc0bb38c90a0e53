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

Every metric is called once on the first pair before anything is timed
(warm-up): this compiles, or loads from numba's cache, the FMI kernels and
fills lazily built tables; the warm-up time is printed on its own line.
``MMFUSENAS_NO_NUMBA=1`` times the numpy FMI path instead, and
``MMFUSENAS_FMI_THREADS=N`` sets the threads of the compiled path.

``--malloc-tuning`` keeps freed memory in the process (glibc ``mallopt``:
mmap threshold 64 MiB, trim threshold 256 MiB; the same as running with
``MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456``).
With glibc's defaults most of the numpy metrics' time can be page faults
on their multi-MB temporaries, depending on the heap's history (loading
numba alone can switch a process from one regime to the other); the flag
shows what the metrics cost without them.
"""
import argparse
import importlib
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

# the package re-exports the function ``fmi``, which hides the module name
fmi_mod = importlib.import_module('mmfusenas.evaluation.functional.fmi')

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
    parser.add_argument('--malloc-tuning', action='store_true',
                        help='raise glibc\'s mmap / trim thresholds first '
                        '(see above)')
    args = parser.parse_args()
    malloc = 'glibc defaults'
    if args.malloc_tuning:
        import ctypes
        libc = ctypes.CDLL(None)
        # M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1
        ok = (libc.mallopt(-3, 64 << 20) == 1 and
              libc.mallopt(-1, 256 << 20) == 1)
        malloc = 'mmap / trim thresholds 64 / 256 MiB' if ok else \
            'mallopt failed, glibc defaults'
    elif os.environ.get('MALLOC_TRIM_THRESHOLD_'):
        malloc = 'MALLOC_*_ from the environment'

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

    # warm-up (not timed below): numba compile / cache load, lazy tables
    c0, t0 = time.process_time(), time.perf_counter()
    kern = fmi_mod._kernels()
    jit_wall, jit_cpu = time.perf_counter() - t0, time.process_time() - c0
    for m in full:
        fns[m](*pairs[0])
    warm_wall, warm_cpu = time.perf_counter() - t0, time.process_time() - c0
    if kern is None:
        fmi_path = 'numpy (numba not available or MMFUSENAS_NO_NUMBA set)'
    else:
        fmi_path = (f'numba, {fmi_mod._n_threads()} thread(s); kernels '
                    f'ready in {jit_wall:.2f} s wall / {jit_cpu:.2f} s cpu '
                    f'(compile, or load from the cache)')

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
    print(f'FMI path: {fmi_path}; malloc: {malloc}')
    print(f'warm-up (every metric once on pair 1, not timed below): '
          f'{warm_wall:.2f} s wall / {warm_cpu:.2f} s cpu')
    print(AsciiTable(rows).table)
    print('* not in the preset\'s default suite')
    print(AsciiTable(suites).table)


if __name__ == '__main__':
    main()
