"""README command (1) on a fresh clone: its wall time and the box mAP of its
validations, as ``docs/get_started.md`` quotes them.

Clones the repository's ``HEAD`` into a temporary folder, runs
``bash tools/demo.sh`` there (toy data, then the headline task-guided job),
times the whole command and reads ``coco/bbox_mAP`` and ``coco/bbox_mAP_50``
of every validation from the run's ``vis_data/scalars.json``. Prints a table
and ``RESULT {json}``; ``--results-json`` writes the record that
``docs/get_started.md`` renders.

    python benchmarks/bench_demo.py \\
        --results-json docs/results/get_started_demo.json
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmfusenas.benchmark.results_record import (  # noqa: E402
    check_record_path, write_results_record)
from mmfusenas.visualization.log_plots import load_scalars  # noqa: E402

METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50')


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


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--results-json', default=None, metavar='FILE')
    args = p.parse_args(argv)
    if args.results_json:
        check_record_path(args.results_json)
    with tempfile.TemporaryDirectory(prefix='bench_demo_') as tmp:
        clone = osp.join(tmp, 'clone')
        subprocess.run(['git', 'clone', '-q', ROOT, clone], check=True)
        t0 = time.perf_counter()
        subprocess.run(['bash', 'tools/demo.sh'], cwd=clone, check=True,
                       env=dict(os.environ, PYTHONPATH=clone))
        seconds = time.perf_counter() - t0
        rows = validations(load_scalars(
            osp.join(clone, 'work_dirs', 'retinanet_ivif_toy')))
    if not rows:
        sys.exit('the demo ran no validation')
    result = {'validations': rows,
              'wall time': {'bash tools/demo.sh': dict(
                  seconds=round(seconds, 1))}}
    for name, table in result.items():
        print(name)
        for row, values in table.items():
            print(f'  {row}: {values}')
    if args.results_json:
        write_results_record(
            args.results_json, 'python benchmarks/bench_demo.py '
            '--results-json ' + args.results_json, ROOT, result, threads=1,
            metrics=list(METRICS),
            table_metrics={'wall time': ['seconds']},
            row_label='', decimals=3,
            note='README command (1) on a fresh clone of HEAD, with '
            'OMP_NUM_THREADS=1 as tools/demo.sh sets; the time includes '
            'the toy data generation; load average at the end '
            f'{os.getloadavg()[1]:.1f} (5 min).')
    print('RESULT ' + json.dumps(result))
    return result


if __name__ == '__main__':
    main()
