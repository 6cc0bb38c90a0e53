"""The README's two commands, timed as the docs quote them.

``--mode demo`` (default): README command (1) on a fresh clone, its wall and
CPU time and the box mAP of its validations (``docs/get_started.md``).
Clones the repository's ``HEAD`` into a temporary folder, runs
``bash tools/demo.sh`` there (toy data, then the headline task-guided job)
and reads ``coco/bbox_mAP`` and ``coco/bbox_mAP_50`` of every validation
from the run's ``vis_data/scalars.json``.

``--mode tests``: README command (2)'s ``python -m pytest tests`` in this
checkout, its wall time, the CPU time of it and its workers and its pass /
skip counts (``tests/README.md``). Other processes on the cores lengthen the
wall time, not the CPU time: the record notes the load average.

Each prints a table and ``RESULT {json}``; ``--results-json`` writes the
record the docs render::

    python benchmarks/bench_demo.py \\
        --results-json docs/results/get_started_demo.json
    python benchmarks/bench_demo.py --mode tests \\
        --results-json docs/results/test_suite.json
"""
import argparse
import json
import os
import os.path as osp
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Dict, Sequence

from mmfusenas.benchmark.cli_modes import run_mode
from mmfusenas.benchmark.results_record import (check_record_path,
                                                write_results_record)
from mmfusenas.search.estimators.resource_estimator import cpu_model
from mmfusenas.visualization.log_plots import load_scalars

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50')
#: pytest's last line, e.g. ``== 3 passed, 1 skipped, 2 warnings in 4.56s ==``
SUMMARY = re.compile(r'=+ (?P<counts>.*?) in (?P<seconds>[\d.]+)s')


def validations(records) -> dict:
    """``{'iteration N': {metric: value}}`` of every validation record,
    N the step of the training record before it (MMEngine logs the
    validations of an iteration-based run at the epoch, 0)."""
    rows, step = {}, 0
    for r in records:
        if METRICS[0] in r:
            rows[f'iteration {step}'] = {m: r[m] for m in METRICS}
        else:
            step = r.get('step', step)
    return rows


def timed_run(cmd: Sequence[str], **kwargs) -> tuple:
    """``subprocess.run(cmd)`` and its wall and CPU seconds (user + system
    of it and the processes it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(cmd, **kwargs)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime -
           before.ru_stime)
    return proc, round(wall, 1), round(cpu, 1)


def main_demo(argv=None) -> dict:
    p = argparse.ArgumentParser(description='README command (1) timed')
    p.add_argument('--results-json', default=None, metavar='FILE')
    args = p.parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    with tempfile.TemporaryDirectory(prefix='bench_demo_') as tmp:
        clone = osp.join(tmp, 'clone')
        subprocess.run(['git', 'clone', '-q', ROOT, clone], check=True)
        _, seconds, cpu = timed_run(['bash', 'tools/demo.sh'], cwd=clone,
                                    check=True,
                                    env=dict(os.environ, PYTHONPATH=clone))
        rows = validations(load_scalars(
            osp.join(clone, 'work_dirs', 'retinanet_ivif_toy')))
    if not rows:
        sys.exit('the demo ran no validation')
    result = {'validations': rows,
              'wall time': {'bash tools/demo.sh': dict(
                  seconds=seconds, cpu_seconds=cpu)}}
    for name, table in result.items():
        print(name)
        for row, values in table.items():
            print(f'  {row}: {values}')
    if args.results_json:
        write_results_record(
            args.results_json, 'python benchmarks/bench_demo.py '
            '--results-json ' + args.results_json, ROOT, result, threads=1,
            metrics=list(METRICS),
            table_metrics={'wall time': ['seconds', 'cpu_seconds']},
            row_label='', decimals=3,
            note='README command (1) on a fresh clone of HEAD, with '
            'OMP_NUM_THREADS=1 as tools/demo.sh sets; the time includes '
            'the toy data generation; load average at the end '
            f'{os.getloadavg()[1]:.1f} (5 min).')
    print('RESULT ' + json.dumps(result))
    return result


def parse_summary(output: str) -> Dict[str, float]:
    """The counts (``passed``, ``skipped``, ``failed``, ...) and pytest's
    own seconds from the last summary line of ``output``.

    Raises:
        ValueError: no summary line.
    """
    lines = [m for m in map(SUMMARY.search, output.splitlines()) if m]
    if not lines:
        raise ValueError('no pytest summary line in the output')
    counts = {}
    for part in lines[-1]['counts'].split(', '):
        number, _, word = part.partition(' ')
        counts[word] = int(number)
    return dict(counts, pytest_s=float(lines[-1]['seconds']))


def main_tests(argv=None) -> dict:
    p = argparse.ArgumentParser(description='README command (2) timed')
    p.add_argument('--results-json', default=None, metavar='FILE')
    p.add_argument('pytest_args', nargs='*', default=['tests'],
                   help="pytest's arguments (default: tests)")
    args = p.parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    load = os.getloadavg()[0]
    proc, wall, cpu = timed_run(
        [sys.executable, '-m', 'pytest', *args.pytest_args], cwd=ROOT,
        capture_output=True, text=True)
    load_after = os.getloadavg()[0]
    print(proc.stdout[-3000:], proc.stderr[-3000:], sep='\n')
    result = dict(parse_summary(proc.stdout), wall_s=wall, cpu_s=cpu,
                  returncode=proc.returncode)
    print(f"{result.get('passed', 0)} passed, {result.get('skipped', 0)} "
          f'skipped in {wall} s wall, {cpu} CPU-s (load average {load:.1f} '
          f'before, {load_after:.1f} after)')
    if args.results_json:
        write_results_record(
            args.results_json, 'python benchmarks/bench_demo.py --mode '
            'tests ' + shlex.join(argv if argv is not None else
                                  sys.argv[1:]), ROOT,
            {'python -m pytest ' + ' '.join(args.pytest_args): {
                cpu_model(): result}},
            row_label='CPU', metrics=['passed', 'skipped', 'wall_s', 'cpu_s'],
            decimals=1,
            note=f'Load average (1 min) {load:.1f} before the run and '
            f'{load_after:.1f} after it; cpu_s: user + system CPU seconds of '
            'pytest and its workers.')
    print('RESULT ' + json.dumps(result))
    return result


MODES = {'demo': main_demo, 'tests': main_tests}


def main(argv=None):
    return run_mode(MODES, argv)


if __name__ == '__main__':
    result = main()
    sys.exit(1 if result.get('returncode') else 0)
