"""Per-metric timing of the fusion metrics on the shared TNO pairs.

Usage::

    python benchmarks/bench_fusion_metrics.py [--preset cddfuse]
        [--pairs 5] [--repeat 3]

F = round((A + B) / 2) stands in for a fused image. Reported: the median
time per metric over pairs x repeats for all 17 metric keys (Nabf, MS_SSIM
and the four FMI variants included), each called on its own; then the
end-to-end time per pair of ``compute_fusion_metrics`` (what the CLI and
``FusionMetric`` call) for the preset's default suite and for the FULL
suite (all 17 keys), each with PASS / FAIL against the goal of 0.3 s for a
768x576 pair on 2 CPU cores; the FULL suite is also timed with
``parallel=False`` (one metric after the other on one thread, FMI's own
threads aside). Wall-clock medians decide PASS / FAIL; process CPU time
(all threads), minor page faults and the load average are printed too,
because the machine may be shared: with other jobs running, wall time can
approach the CPU time, so the last line also gives CPU time / CPUs, the
wall time on otherwise idle cores if the work spreads perfectly.

Every metric is called once on the first pair before anything is timed
(warm-up): this compiles, or loads from numba's cache, the FMI kernels and
fills lazily built tables; the warm-up time is printed on its own line.
``MMFUSENAS_NO_NUMBA=1`` times the numpy FMI path instead, and
``MMFUSENAS_FMI_THREADS=N`` sets the threads of the compiled path.

Memory: the metrics raise glibc's dynamic mmap threshold once per process
(``fusion._keep_freed_memory``), which removes the ~55k page faults per
pair that their multi-MB temporaries otherwise cost;
``MMFUSENAS_NO_MALLOC_TUNING=1`` turns that off (to see the difference).
``--malloc-tuning`` instead fixes the thresholds with ``mallopt`` (mmap
threshold 64 MiB, trim threshold 256 MiB; the same as running with
``MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456``).
"""
import argparse
import importlib
import os
import os.path as osp
import resource
import sys
import time

import cv2
import numpy as np
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmfusenas.evaluation.functional import fusion as fusion_mod  # noqa
from mmfusenas.evaluation.functional.fusion import (  # noqa: E402
    FUSION_METRICS, FUSION_PRESETS, compute_fusion_metrics, resolve_metrics)

# the package re-exports the function ``fmi``, which hides the module name
fmi_mod = importlib.import_module('mmfusenas.evaluation.functional.fmi')

TNO = osp.join(osp.dirname(ROOT), 'shared', 'data', 'fusion', 'TNO')
GOAL_S = 0.3


def _faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _time(fn, pairs, repeat):
    """Median wall and CPU seconds and minor page faults of ``fn(a, b, f)``
    over pairs x repeat."""
    wall, cpu, flt = [], [], []
    for a, b, f in pairs:
        for _ in range(repeat):
            n0, c0, t0 = _faults(), time.process_time(), time.perf_counter()
            fn(a, b, f)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            flt.append(_faults() - n0)
    return float(np.median(wall)), float(np.median(cpu)), float(
        np.median(flt))


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
    if args.malloc_tuning:
        import ctypes
        libc = ctypes.CDLL(None)
        # M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1
        ok = (libc.mallopt(-3, 64 << 20) == 1 and
              libc.mallopt(-1, 256 << 20) == 1)
        malloc = 'mallopt: mmap / trim thresholds 64 / 256 MiB' if ok else \
            'mallopt failed, glibc defaults'
    elif os.environ.get('MALLOC_TRIM_THRESHOLD_'):
        malloc = 'MALLOC_*_ from the environment'
    elif fusion_mod.MALLOC_TUNING:
        malloc = ('glibc, dynamic thresholds raised by the metrics '
                  '(MMFUSENAS_NO_MALLOC_TUNING=1 to disable)')
    else:
        malloc = 'glibc defaults (MMFUSENAS_NO_MALLOC_TUNING set)'

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

    # warm-up (not timed below): numba compile / cache load, lazy tables,
    # the suite's background thread
    c0, t0 = time.process_time(), time.perf_counter()
    kern = fmi_mod._kernels()
    jit_wall, jit_cpu = time.perf_counter() - t0, time.process_time() - c0
    for m in full:
        fns[m](*pairs[0])
    compute_fusion_metrics(*pairs[0], args.preset, 'all')
    warm_wall, warm_cpu = time.perf_counter() - t0, time.process_time() - c0
    if kern is None:
        fmi_path = 'numpy (numba not available or MMFUSENAS_NO_NUMBA set)'
    else:
        fixed = ', generated 3x3 kernels' if 3 in kern.fixed else \
            ', generic kernels only'
        fmi_path = (f'numba{fixed}, {fmi_mod._n_threads()} thread(s); '
                    f'kernels ready in {jit_wall:.2f} s wall / {jit_cpu:.2f} '
                    f's cpu (compile, or load from the cache)')

    rows = [['metric', 'median ms / pair', 'cpu ms', 'page faults',
             'value (pair 1)']]
    for m in full:
        wall, cpu, flt = _time(fns[m], pairs, args.repeat)
        tag = '' if m in default else ' *'
        rows.append([m + tag, f'{wall * 1e3:.1f}', f'{cpu * 1e3:.1f}',
                     f'{flt:.0f}', f'{fns[m](*pairs[0]):.4f}'])

    # end-to-end suite times (what a user pays per pair)
    def suite(names, parallel=None):
        return lambda a, b, f: compute_fusion_metrics(
            a, b, f, args.preset, names, parallel=parallel)

    suites = [['compute_fusion_metrics', 'median ms / pair', 'cpu ms',
               'page faults', 'goal 300 ms']]
    verdict = None
    for label, names, par in (('default', default, None),
                              ('FULL', full, None),
                              ('FULL, parallel=False', full, False)):
        wall, cpu, flt = _time(suite(names, par), pairs, args.repeat)
        ok = 'PASS' if wall <= GOAL_S else 'FAIL'
        suites.append([f'{label} ({len(names)} metrics)',
                       f'{wall * 1e3:.1f}', f'{cpu * 1e3:.1f}', f'{flt:.0f}',
                       ok])
        if label == 'FULL':
            verdict = (wall, cpu, ok)
    title = (f'preset {args.preset}, {len(pairs)} TNO pairs 768x576, '
             f'{args.repeat} repeats, cv2 threads {cv2.getNumThreads()}, '
             f'{os.cpu_count()} CPUs, load {load0:.2f} -> '
             f'{os.getloadavg()[0]:.2f}')
    print(title)
    print(f'FMI path: {fmi_path}')
    print(f'malloc: {malloc}')
    print(f'warm-up (every metric once on pair 1, not timed below): '
          f'{warm_wall:.2f} s wall / {warm_cpu:.2f} s cpu')
    print(AsciiTable(rows).table)
    print('* not in the preset\'s default suite')
    print(AsciiTable(suites).table)
    wall, cpu, ok = verdict
    n_cpu = fusion_mod._n_cpus()
    print(f'FULL suite ({len(full)} metrics): {wall * 1e3:.0f} ms wall per '
          f'pair -> {ok} (goal {GOAL_S * 1e3:.0f} ms); {cpu * 1e3:.0f} ms '
          f'CPU = {cpu / n_cpu * 1e3:.0f} ms on {n_cpu} idle CPUs if the '
          f'work spread perfectly')


if __name__ == '__main__':
    main()
