"""Timing of the fusion metrics on the shared TNO pairs.

Usage::

    python benchmarks/bench_fusion_metrics.py [--preset cddfuse]
        [--pairs 5] [--repeat 3] [--batch 4] [--device cpu]

F = round((A + B) / 2) stands in for a fused image. Default mode: every
metric key (the four FMI variants included), each on its own, then the
preset's default suite and the FULL suite (all 17 keys) through
``compute_fusion_metrics``, on batches of ``--batch`` pairs (the TNO pairs
repeated) on ``--device`` (CUDA-synchronised), in ms per pair (median of
``--repeat`` after one warm-up call); the non-FMI values are compared with
the numpy oracle (:mod:`mmfusenas.testing.fusion_oracle`; goal: <= 1e-9
relative). Wall time decides; CPU time and the load average are printed,
since the machine may be shared.

``--reference`` (preset cddfuse) also times the widely used Python
``Evaluator`` (MMIF-CDDFuse and forks; re-implemented in
:mod:`mmfusenas.testing.reference_fusion_evaluator`) side by side in
this process, pair by pair: every metric of the reference once and ours
(``compute_fusion_metrics``, as the evaluator computes) right after
(median of ``--repeat``), then our default and FULL suites; the reference
suite time is the sum of its metric calls (how the Evaluator is used). The
FMI port loops over windows in Python, so it is timed on ``--fmi-rows``
window rows and scaled to the image. Values are compared. Then the default
suite once more with the cores shared: the benchmark starts one
busy-looping process per core available to it and stops them after. Goals:
the default suite >= 30x on the machine as it is ("idle": run it with
nothing else running; the load average is recorded) and >= 10x with the
cores shared; RESULT names the CPU model, the cores, the load averages and
whether each goal is met (``goals``).

``--ivif-zoo DIR`` times IVIF_ZOO's own evaluator (``evaluation_one`` of
``Metric/eval_torch.py`` in ``DIR``, a checkout of
github.com/RollingPlain/IVIF_ZOO that you fetch; see
:mod:`mmfusenas.testing.ivif_zoo_reference`) side by side with the
``ivif_zoo`` preset on the first ``--pairs`` pairs of ``--data``: both read
the three files and compute all 21 metrics. Goal: >= 20x. With
``--command``, whole commands in fresh processes instead
(``eval_fusion.py --help`` and ``eval_fusion.py --preset ivif_zoo`` against
a process looping ``evaluation_one``).

``--results-json FILE`` (with ``--reference``, ``--ivif-zoo`` or
``--command``) writes the side-by-side table as a results record
(``docs/results/<name>.json``, rendered into the docs by
``tools/misc/results_to_docs.py``). Ends with ``RESULT {json}``.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import sys
import time

import cv2
import numpy as np
import torch
from terminaltables import AsciiTable

from mmfusenas.benchmark.results_record import (check_record_path,
                                                write_results_record)
from mmfusenas.evaluation.functional.fusion import (compute_fusion_metrics,
                                                    fusion_workers)
from mmfusenas.evaluation.fusion_presets import (
    FUSION_METRICS, FUSION_PRESETS, IVIF_ZOO_METRICS, resolve_metrics)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

TNO = osp.join(osp.dirname(ROOT), 'shared', 'data', 'fusion', 'TNO')
#: presets the numpy oracle implements (ivif_zoo has IVIF_ZOO's own code)
ORACLE_PRESETS = ('cddfuse', 'tang', 'vifb')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--preset', default='cddfuse')
    parser.add_argument('--pairs', type=int, default=5)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--data', default=TNO, help='folder with ir/ vi/')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        help='the top-left H x W of the pairs at least that '
                        'large (e.g. 192 192 for a quick run; default: the '
                        '768 x 576 pairs, whole)')
    parser.add_argument('--reference', action='store_true',
                        help='time the Python Evaluator side by side '
                        '(cddfuse preset)')
    parser.add_argument('--fmi-rows', type=int, default=2,
                        help='window rows of the reference FMI loop timed '
                        'per pair (scaled to the image)')
    parser.add_argument('--device', default='cpu',
                        help='device of the default mode (cpu, cuda, ...)')
    parser.add_argument('--batch', type=int, default=4,
                        help='pairs per batch in the default mode (the '
                        'pairs repeated)')
    parser.add_argument('--ivif-zoo', default=None, metavar='DIR',
                        help="time IVIF_ZOO's own evaluation_one (DIR: "
                        'your checkout of github.com/RollingPlain/IVIF_ZOO)'
                        ' side by side with the ivif_zoo preset, all 21 '
                        'metrics, and compare the values')
    parser.add_argument('--command', action='store_true',
                        help='with --ivif-zoo: time whole commands in fresh '
                        'processes instead: eval_fusion.py --help, and '
                        'eval_fusion.py --preset ivif_zoo on --pairs pairs '
                        "against a script looping IVIF_ZOO's evaluation_one "
                        'over the same files')
    parser.add_argument('--results-json', default=None, metavar='FILE',
                        help='with --reference, --command or '
                        '--ivif-zoo: write '
                        'the side-by-side table as a results record '
                        '(docs/results/<name>.json)')
    args = parser.parse_args(argv)
    return _main(args, argv)


def _main(args, argv):
    if args.results_json:
        if not (args.reference or args.ivif_zoo):
            sys.exit('--results-json records the side-by-side table: add '
                     '--reference or --ivif-zoo')
        check_record_path(args.results_json)
    if not osp.isdir(args.data):
        sys.exit(f'data folder not found: {args.data}')
    if args.ivif_zoo:
        run = _command if args.command else _ivif_zoo
        return run(args, sys.argv[1:] if argv is None else argv)
    if args.reference and args.preset != 'cddfuse':
        sys.exit('--reference compares with the cddfuse '
                 'conventions; use --preset cddfuse')
    gray = FUSION_PRESETS[args.preset]['gray']
    h, w = args.size or (576, 768)
    pairs = []
    for name in sorted(os.listdir(osp.join(args.data, 'ir'))):
        a = gray(cv2.imread(osp.join(args.data, 'ir', name)))
        if a.shape != (h, w) and not (
                args.size and a.shape[0] >= h and a.shape[1] >= w):
            continue
        b = gray(cv2.imread(osp.join(args.data, 'vi', name)))
        a, b = a[:h, :w], b[:h, :w]
        pairs.append((a, b, np.round((a + b) / 2)))
        if len(pairs) == args.pairs:
            break
    if not pairs:
        sys.exit(f'no pair of {w}x{h} pixels in {args.data}' +
                 (' or larger' if args.size else ''))
    default = resolve_metrics(args.preset)
    full = tuple(FUSION_METRICS)
    result = dict(preset=args.preset, pairs=len(pairs), size=f'{w}x{h}')
    result.update(_batched(pairs, default, full, args))
    table = None
    if args.reference:
        load = os.getloadavg()[0]
        out, table = _reference(pairs, default, full, args)
        result.update(out)
        cases = {'idle': dict(_case(out, 'default'), load_avg=[
            round(load, 2), round(os.getloadavg()[0], 2)])}
        cases['shared'], row = _shared(pairs, default, args)
        table[f'suite default ({len(default)} metrics), cores shared'] = row
        result.update(_machine(), cases=cases, goals={
            case: dict(goal=GOALS[case], speedup=cases[case]['speedup'],
                       passed=cases[case]['speedup'] >= GOALS[case])
            for case in GOALS})
        _print_goals(result)
    if args.results_json:
        write_reference_record(
            args.results_json, sys.argv[1:] if argv is None else argv,
            table, result, len(pairs))
    print('RESULT ' + json.dumps(result))
    return result


def _batched(pairs, default, full, args):
    """Every metric and the two suites on batches of ``args.batch`` pairs
    on ``args.device``: ms per pair (median of ``args.repeat`` calls after
    one warm-up, CUDA-synchronised), and the largest relative difference
    of the non-FMI values from the numpy oracle."""
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda: torch sees no CUDA device')
    n = args.batch
    reps = [pairs[i % len(pairs)] for i in range(n)]
    a, b, f = (torch.from_numpy(np.stack(x)).to(device)
               for x in zip(*reps))

    def timed(fn):
        fn()            # warm-up (numba cache, CUDA context, allocator)
        wall, cpu = [], []
        for _ in range(args.repeat):
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return (float(np.median(wall)) / n * 1e3,
                float(np.median(cpu)) / n * 1e3)

    load0 = os.getloadavg()[0]
    # each metric as the evaluator computes it (one intra-op thread per
    # pair, pairs and metrics spread over fusion_workers() threads)
    per_metric = {m: timed(lambda m=m: compute_fusion_metrics(
        a, b, f, args.preset, [m])) for m in full}
    suites = {label: timed(lambda names=names: compute_fusion_metrics(
        a, b, f, args.preset, names))
        for label, names in (('default', default), ('FULL', full))}
    rel = {}
    if args.preset in ORACLE_PRESETS:
        from mmfusenas.testing.fusion_oracle import oracle_metrics
        non_fmi = [m for m in full if not m.startswith('FMI')]
        got = compute_fusion_metrics(a, b, f, args.preset, non_fmi)
        for i, p in enumerate(pairs[:n]):
            ref = oracle_metrics(*p, args.preset, non_fmi)
            for m in non_fmi:
                rel[m] = max(rel.get(m, 0.0), abs(got[m][i].item() - ref[m])
                             / max(1.0, abs(ref[m])))
    where = (torch.cuda.get_device_name(device) if device.type == 'cuda'
             else f'cpu, {fusion_workers()} worker thread(s)')
    rows = [['metric', 'ms / pair', 'cpu ms / pair', 'max rel. diff']]
    for m in full:
        tag = '' if m in default else ' *'
        rows.append([m + tag, f'{per_metric[m][0]:.2f}',
                     f'{per_metric[m][1]:.2f}',
                     f'{rel[m]:.1e}' if m in rel else '-'])
    for label, names in (('default', default), ('FULL', full)):
        rows.append([f'suite {label} ({len(names)} metrics)',
                     f'{suites[label][0]:.2f}', f'{suites[label][1]:.2f}',
                     ''])
    print(f'preset {args.preset} on {where}: batch {n} ({len(pairs)} TNO '
          f'pairs {a.shape[2]}x{a.shape[1]} repeated), median of '
          f'{args.repeat} calls; load '
          f'{load0:.2f} -> {os.getloadavg()[0]:.2f}; max rel. diff: from '
          'the numpy oracle')
    print(AsciiTable(rows).table)
    print('* not in the preset\'s default suite')
    out = dict(device=where, batch=n,
               default_ms=round(suites['default'][0], 2),
               full_ms=round(suites['FULL'][0], 2),
               ms_per_metric={m: round(v[0], 3)
                              for m, v in per_metric.items()})
    if rel:
        out['max_rel_diff'] = float(f'{max(rel.values()):.1e}')
    return out


#: the default suite's speed-up goals against the reference evaluator:
#: on the machine as it is (run it idle) and with every core shared
GOALS = {'idle': 30.0, 'shared': 10.0}

#: a busy loop: one process per core shares the cores (``_shared``)
_SPIN = 'x = 0\nwhile True:\n    x = (x * 7 + 1) % 1000003\n'


def _machine():
    """The CPU model, the cores this process may run on and the threads
    the evaluator uses."""
    from mmfusenas.search.estimators.resource_estimator import cpu_model
    return dict(cpu_model=cpu_model(), cores=len(os.sched_getaffinity(0)),
                workers=fusion_workers())


def _case(out, label):
    """One case of RESULT's ``cases`` from :func:`_reference`'s keys."""
    return dict(speedup=out[f'{label}_speedup'],
                cpu_speedup=out[f'{label}_cpu_speedup'],
                ours_ms=out[f'{label}_ours_ms'],
                reference_ms=out[f'{label}_reference_ms'])


def _median_suite_time(a, b, f, names, args):
    """Median wall and CPU seconds of ``--repeat`` suite calls on a pair."""
    ts, cs = [], []
    for _ in range(args.repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        compute_fusion_metrics(a, b, f, args.preset, names)
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return float(np.median(ts)), float(np.median(cs))


def _suite_side_by_side(pairs, names, args):
    """The default-suite protocol of :func:`_reference`, the suite only:
    per pair, every reference metric of ``names`` once (their sum), then
    ``compute_fusion_metrics`` (median of ``--repeat``, after one untimed
    call on the first pair); the medians over pairs of the per-pair wall
    and CPU ratios and of the times (ms)."""
    import mmfusenas.testing.reference_fusion_evaluator as ref
    ratio, cpu_ratio, ours, theirs = [], [], [], []
    for i, (a, b, f) in enumerate(pairs):
        if i == 0:
            compute_fusion_metrics(a, b, f, args.preset, names)
        r_wall = r_cpu = 0.0
        for m in names:
            c0, t0 = time.process_time(), time.perf_counter()
            ref.FUNCS[m](a, b, f)
            r_wall += time.perf_counter() - t0
            r_cpu += time.process_time() - c0
        t, c = _median_suite_time(a, b, f, names, args)
        ratio.append(r_wall / t)
        cpu_ratio.append(r_cpu / c)
        ours.append(t)
        theirs.append(r_wall)
    return dict(speedup=round(float(np.median(ratio)), 1),
                cpu_speedup=round(float(np.median(cpu_ratio)), 1),
                ours_ms=round(float(np.median(ours)) * 1e3, 1),
                reference_ms=round(float(np.median(theirs)) * 1e3, 1))


def _shared(pairs, names, args):
    """The default suite side by side with the reference while one
    busy-looping process per core shares the cores (started here, stopped
    after): the case of RESULT's ``cases`` and its row of the table."""
    import subprocess
    n = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    spinners = [subprocess.Popen([sys.executable, '-c', _SPIN],
                                 stdin=subprocess.DEVNULL)
                for _ in range(n)]
    try:
        time.sleep(0.5)     # started and spinning
        case = _suite_side_by_side(pairs, names, args)
        alive = sum(p.poll() is None for p in spinners)
    finally:
        for p in spinners:
            p.kill()
        for p in spinners:
            p.wait()
    if alive != n:
        sys.exit(f'cores shared: {n - alive} of the {n} busy processes '
                 'ended before the measurement did')
    case.update(busy_processes=n,
                load_avg=[round(load, 2), round(os.getloadavg()[0], 2)])
    row = dict(zip(REFERENCE_COLUMNS, (
        case['reference_ms'], case['ours_ms'], case['speedup'],
        case['cpu_speedup'], '-')))
    print(f'Cores shared ({n} busy processes, one per core): the default '
          f'suite {case["ours_ms"]:.1f} ms, the reference '
          f'{case["reference_ms"]:.0f} ms: {case["speedup"]:.1f}x (CPU '
          f'{case["cpu_speedup"]:.1f}x); load {case["load_avg"][0]:.2f} -> '
          f'{case["load_avg"][1]:.2f}')
    return case, row


def _print_goals(result):
    print(f'{result["cpu_model"]}, {result["cores"]} core(s), '
          f'{result["workers"]} worker thread(s): ' + '; '.join(
              f'{case} {g["speedup"]:.1f}x '
              f'{"PASS" if g["passed"] else "FAIL"} (goal {g["goal"]:g}x)'
              for case, g in result['goals'].items()))


#: columns of the side-by-side record (:func:`_reference`'s table)
REFERENCE_COLUMNS = ('reference ms', 'ours ms', 'speed-up (wall)',
                     'speed-up (CPU)', 'max abs diff')


def write_reference_record(path, argv, table, result, n_pairs):
    """The side-by-side table of :func:`_reference` as a results record
    (one table, a row per metric and per suite)."""
    write_results_record(
        path, 'python benchmarks/bench_fusion_metrics.py ' + shlex.join(argv),
        ROOT, {f'cddfuse conventions, TNO {result["size"]}': {
            name: dict(row, pairs=n_pairs) for name, row in table.items()}},
        metrics=list(REFERENCE_COLUMNS), decimals=1, RESULT=result,
        note='wall clock per pair (ours: median of --repeat; reference '
        'FMI scaled from --fmi-rows window rows); suites: the median over '
        'pairs of the per-pair ratio, the reference suite the sum of its '
        'metric calls; load average '
        f'{" / ".join(f"{x:.2f}" for x in os.getloadavg())} at the end.')


def _ivif_zoo(args, argv):
    """IVIF_ZOO's ``evaluation_one`` against the ``ivif_zoo`` preset on the
    first ``--pairs`` pairs of ``--data``: both read the three files and
    compute the 21 metrics (median wall time of ``--repeat`` calls, after
    one untimed call of each on the first pair); values compared."""
    import tempfile

    from mmfusenas.testing.ivif_zoo_reference import load_evaluation_one
    try:
        evaluation_one = load_evaluation_one(args.ivif_zoo)
    except FileNotFoundError as err:
        sys.exit(str(err))
    names = IVIF_ZOO_METRICS
    gray = FUSION_PRESETS['ivif_zoo']['gray']

    def ours(ir, vi, fused):
        imgs = [gray(cv2.imread(p, cv2.IMREAD_COLOR)) for p in (ir, vi,
                                                                fused)]
        return compute_fusion_metrics(*imgs, 'ivif_zoo', 'all')

    stems = sorted(os.listdir(osp.join(args.data, 'ir')))[:args.pairs]
    rows = [['pair', 'size', 'IVIF_ZOO (s)', 'ours (s)', 'speed-up']]
    table, worst, speedups = {}, {m: 0.0 for m in names}, []
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(stems):
            ir, vi = (osp.join(args.data, m, name) for m in ('ir', 'vi'))
            a, b = (cv2.imread(p, cv2.IMREAD_COLOR).astype(np.float64)
                    for p in (ir, vi))
            fused = osp.join(tmp, osp.splitext(name)[0] + '.png')
            cv2.imwrite(fused, np.floor((a + b) / 2 + 0.5).astype(np.uint8))
            if i == 0:  # first calls load caches, imports, thread pools
                evaluation_one(ir, vi, fused)
                ours(ir, vi, fused)
            times = {'ref': [], 'ours': []}
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                ref = evaluation_one(ir, vi, fused)
                times['ref'].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                val = ours(ir, vi, fused)
                times['ours'].append(time.perf_counter() - t0)
            ref = dict(zip(names, (float(v) for v in ref)))
            for m in names:
                worst[m] = max(worst[m], abs(val[m] - ref[m]) /
                               max(abs(ref[m]), 1e-12))
            t_ref, t_ours = (float(np.median(times[k])) for k in ('ref',
                                                                  'ours'))
            speedups.append(t_ref / t_ours)
            size = f'{int(a.shape[1])}x{int(a.shape[0])}'
            rows.append([name, size, f'{t_ref:.3f}', f'{t_ours:.3f}',
                         f'{t_ref / t_ours:.1f}x'])
            table[name] = {'size': size, 'IVIF_ZOO_s': round(t_ref, 4),
                           'ours_s': round(t_ours, 4),
                           'speedup': round(t_ref / t_ours, 1)}
    print(f'IVIF_ZOO evaluation_one vs the ivif_zoo preset (21 metrics, '
          f'files read by both), {len(stems)} pair(s) of {args.data}, '
          f'F = floor((A + B) / 2 + 0.5); torch threads '
          f'{torch.get_num_threads()}')
    print(AsciiTable(rows).table)
    diff_rows = [['metric', 'max rel diff']] + [
        [m, f'{worst[m]:.1e}'] for m in names]
    print(AsciiTable(diff_rows, title='values').table)
    result = dict(
        preset='ivif_zoo', pairs=len(stems),
        reference_s=round(float(np.median([r['IVIF_ZOO_s']
                                           for r in table.values()])), 3),
        ours_s=round(float(np.median([r['ours_s']
                                      for r in table.values()])), 4),
        speedup=round(float(np.median(speedups)), 1),
        min_speedup=round(float(min(speedups)), 1),
        max_rel_diff={m: float(f'{v:.1e}') for m, v in worst.items()})
    if args.results_json:
        write_results_record(
            args.results_json,
            'python benchmarks/bench_fusion_metrics.py ' + shlex.join(argv),
            ROOT, {'IVIF_ZOO evaluation_one vs ivif_zoo preset': table,
                   'largest relative difference per metric': {
                       m: {'max_rel_diff': f'{v:.1e}'}
                       for m, v in worst.items()}},
            metrics=['size', 'IVIF_ZOO_s', 'ours_s', 'speedup'],
            table_metrics={'largest relative difference per metric':
                           ['max_rel_diff']},
            decimals=3, row_label='pair', RESULT=result,
            note='wall clock per pair, both reading the three files; '
            'median of --repeat after one untimed call of each; the '
            'reference is IVIF_ZOO Metric/eval_torch.py evaluation_one from '
            'the folder given to --ivif-zoo.')
    print('RESULT ' + json.dumps(result))
    return result


#: the reference's command: IVIF_ZOO's ``__main__`` loop over the pairs
#: (``evaluation_one`` per file, values kept), without its Excel writing
_REFERENCE_SCRIPT = """
import os
from mmfusenas.testing.ivif_zoo_reference import load_evaluation_one
evaluation_one = load_evaluation_one({zoo!r})
rows = [evaluation_one(*(os.path.join({tmp!r}, d, n) for d in
                         ('ir', 'vi', 'fused')))
        for n in sorted(os.listdir(os.path.join({tmp!r}, 'fused')))]
print(len(rows))
"""


def _command(args, argv):
    """Whole commands in fresh processes (median wall time of ``--repeat``
    runs): ``eval_fusion.py --help``, and ``eval_fusion.py --preset
    ivif_zoo`` on the first ``--pairs`` pairs of ``--data`` against a
    Python process looping IVIF_ZOO's ``evaluation_one`` over the same
    files (start-up and imports included on both sides)."""
    import subprocess
    import tempfile
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'eval_fusion.py')
    stems = sorted(os.listdir(osp.join(args.data, 'ir')))[:args.pairs]

    def timed(cmd):
        walls = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t0)
        return float(np.median(walls))

    with tempfile.TemporaryDirectory() as tmp:
        for d in ('ir', 'vi', 'fused'):
            os.makedirs(osp.join(tmp, d))
        for name in stems:
            a, b = (cv2.imread(osp.join(args.data, d, name))
                    for d in ('ir', 'vi'))
            stem = osp.splitext(name)[0] + '.png'
            cv2.imwrite(osp.join(tmp, 'ir', stem), a)
            cv2.imwrite(osp.join(tmp, 'vi', stem), b)
            cv2.imwrite(osp.join(tmp, 'fused', stem),
                        np.floor((a.astype(np.float64) + b) / 2 +
                                 0.5).astype(np.uint8))
        help_s = timed([sys.executable, tool, '--help'])
        ours_s = timed([sys.executable, tool] +
                       [osp.join(tmp, d) for d in ('ir', 'vi', 'fused')] +
                       ['--preset', 'ivif_zoo'])
        ref_s = timed([sys.executable, '-c', _REFERENCE_SCRIPT.format(
            zoo=osp.abspath(args.ivif_zoo), tmp=tmp)])
    table = {
        'eval_fusion.py --help': {'seconds': round(help_s, 3)},
        f'eval_fusion.py --preset ivif_zoo, {len(stems)} pairs': {
            'seconds': round(ours_s, 3)},
        f'IVIF_ZOO evaluation_one loop, {len(stems)} pairs': {
            'seconds': round(ref_s, 3)},
    }
    print(AsciiTable([['command', 'wall s']] + [
        [k, f"{v['seconds']:.2f}"] for k, v in table.items()]).table)
    result = dict(pairs=len(stems), help_s=round(help_s, 3),
                  ours_s=round(ours_s, 3), reference_s=round(ref_s, 3),
                  speedup=round(ref_s / ours_s, 1))
    if args.results_json:
        write_results_record(
            args.results_json,
            'python benchmarks/bench_fusion_metrics.py ' + shlex.join(argv),
            ROOT, {'whole commands': table}, metrics=['seconds'],
            decimals=2, row_label='command', RESULT=result,
            note='fresh processes, start-up and imports included; median of '
            '--repeat runs; the reference is a Python process looping '
            'IVIF_ZOO Metric/eval_torch.py evaluation_one (from the folder '
            'given to --ivif-zoo) over the same files, as its __main__ does '
            'without writing Excel.')
    print('RESULT ' + json.dumps(result))
    return result


def _reference(pairs, default, full, args):
    """Side-by-side timing against the re-implemented Python Evaluator."""
    import mmfusenas.testing.reference_fusion_evaluator as ref
    ref_t = {m: [] for m in full}
    our_t = {m: [] for m in full}
    diff = {m: 0.0 for m in full}
    ref_c = {m: [] for m in full}     # CPU seconds (process time)
    suite_ratio = {'default': [], 'FULL': []}
    suite_cpu_ratio = {'default': [], 'FULL': []}
    suite_ms = {'default': [], 'FULL': []}
    ref_suite = {'default': [], 'FULL': []}
    for i, (a, b, f) in enumerate(pairs):
        for m in full:          # A then B for each metric (interleaved)
            if i == 0:
                # one untimed call of both on the first pair: compiled
                # kernels load from their cache on a first call (FMI's
                # reference, extrapolated from a few rows, is not repeated)
                if m not in ref.FMI_FEATURES:
                    ref.FUNCS[m](a, b, f)
                compute_fusion_metrics(a, b, f, args.preset, [m])
            if m in ref.FMI_FEATURES:
                c0 = time.process_time()
                v, sec, frac = ref.fmi_reference(
                    a, b, f, ref.FMI_FEATURES[m], rows=args.fmi_rows)
                ref_t[m].append(sec / frac)
                ref_c[m].append((time.process_time() - c0) / frac)
                diff[m] = None  # band only: values not comparable
            else:
                c0, t0 = time.process_time(), time.perf_counter()
                v = float(ref.FUNCS[m](a, b, f))
                ref_t[m].append(time.perf_counter() - t0)
                ref_c[m].append(time.process_time() - c0)
            ours = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                o = compute_fusion_metrics(a, b, f, args.preset, [m])[m]
                ours.append(time.perf_counter() - t0)
            our_t[m].append(float(np.median(ours)))
            if diff[m] is not None:
                diff[m] = max(diff[m], abs(v - o))
        for label, names in (('default', default), ('FULL', full)):
            t, c = _median_suite_time(a, b, f, names, args)
            r = sum(ref_t[m][-1] for m in names)
            suite_ms[label].append(t)
            ref_suite[label].append(r)
            suite_ratio[label].append(r / t)
            suite_cpu_ratio[label].append(
                sum(ref_c[m][-1] for m in names) / c)
    rows = [['metric', 'reference ms', 'ours ms', 'speed-up (wall)',
             'max |diff|']]
    table = {}
    for m in full:
        r, o = np.median(ref_t[m]), np.median(our_t[m])
        d = 'n/a (band)' if diff[m] is None else f'{diff[m]:.1e}'
        tag = ' (extrapolated)' if m in ref.FMI_FEATURES else ''
        rows.append([m, f'{r * 1e3:.1f}{tag}', f'{o * 1e3:.1f}',
                     f'{r / o:.1f}x', d])
        table[m + tag] = dict(zip(REFERENCE_COLUMNS, (
            round(float(r) * 1e3, 3), round(float(o) * 1e3, 3),
            round(float(r / o), 1), '-', d)))
    out = {}
    names_of = dict(default=default, FULL=full)
    for label in ('default', 'FULL'):
        ratio = float(np.median(suite_ratio[label]))
        cratio = float(np.median(suite_cpu_ratio[label]))
        ok = 'PASS' if ratio >= 30 else 'FAIL'
        rows.append([f'suite {label}',
                     f'{np.median(ref_suite[label]) * 1e3:.0f}',
                     f'{np.median(suite_ms[label]) * 1e3:.1f}',
                     f'{ratio:.1f}x (CPU {cratio:.1f}x)',
                     f'{ok} (goal 30x)'])
        out[f'{label}_speedup'] = round(ratio, 1)
        out[f'{label}_cpu_speedup'] = round(cratio, 1)
        out[f'{label}_ours_ms'] = round(
            float(np.median(suite_ms[label])) * 1e3, 1)
        out[f'{label}_reference_ms'] = round(
            float(np.median(ref_suite[label])) * 1e3, 1)
        table[f'suite {label} ({len(names_of[label])} metrics)'] = dict(
            zip(REFERENCE_COLUMNS, (out[f'{label}_reference_ms'],
                                    out[f'{label}_ours_ms'], out[
                                        f'{label}_speedup'],
                                    out[f'{label}_cpu_speedup'], '-')))
    print(f'Side by side with the Python Evaluator (re-implemented), '
          f'{len(pairs)} pairs; suite ratios are medians over pairs of '
          f'per-pair ratios; reference FMI on {args.fmi_rows} window rows, '
          f'scaled')
    print(AsciiTable(rows).table)
    return out, table


if __name__ == '__main__':
    main()
