"""The task-guidance table, budget curve and goal from the unit records of
``task_protocol.py --records`` alone (no data, no training).

Example (the MSRS campaign; each sub-folder is one protocol's records)::

    python tools/analysis_tools/task_report.py \\
        docs/results/task_real_msrs_cpu \\
        --results-json docs/results/task_real_msrs_cpu.json
    python tools/misc/results_to_docs.py   # renders it into the docs

Every sub-folder of ``ROOT`` holding records is one table (its inputs'
mAP, mAP50 and per-class AP50 as mean and population std over the seeds,
the seeds and the training CPU-hours; refused when a row's seeds were made
from other inputs). The budget curve compares ``ir`` and ``vi`` over the
folders of the fusion label set, refused unless their protocols differ in
the budget only; the decisive table is
``--table`` (default: the smallest budget of the curve out of the noise
floor, else the largest one the ``--joint`` row ran at). The goal
compares ``--joint`` with ``--twin``, with the best input in that table and
with ``--control`` (the joint model with N_F frozen and no fusion loss:
what joint training adds); ``amp`` says whether ``--amp`` (the joint model
under mixed precision) scores within the seed spread of ``--joint``, with
their step-time and memory ratios. Last line ``RESULT {json}``.
"""
import argparse
import json
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.benchmark.results_record import (  # noqa: E402
    check_record_path, write_results_record)
from mmfusenas.evaluation.task_records import (  # noqa: E402
    NO_DEVICE, budget_curve, compare, load_records, records_table,
    within_spread)

TWIN_CRITERION = ('task-guided mAP50 exceeds its two-step twin\'s by more '
                  'than the larger seed spread')
BEST_CRITERION = ('task-guided mAP50 exceeds the best input\'s (IR, VIS, '
                  'every fixed fusion method and the twin) by more than '
                  'the larger seed spread')
CONTROL_CRITERION = ('task-guided mAP50 exceeds its control\'s (N_F frozen, '
                     'no fusion loss) by more than the larger seed spread')
AMP_CRITERION = ('the joint model under mixed precision scores within the '
                 'larger seed spread of its float32 row')
GOALS = ('goal', 'goal_best_input', 'goal_control', 'amp')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='folder of records folders')
    parser.add_argument('--table', help='the decisive table\'s folder')
    parser.add_argument('--joint', default='tim_c8',
                        help='the task-guided row (default tim_c8)')
    parser.add_argument('--twin', default='twin_c8',
                        help='its two-step twin\'s row (default twin_c8)')
    parser.add_argument('--control', default='tim_c8_frozen',
                        help='the joint model with N_F frozen (default '
                        'tim_c8_frozen)')
    parser.add_argument('--amp', default='tim_c8_amp',
                        help='the joint row under mixed precision (default '
                        'tim_c8_amp)')
    parser.add_argument('--min-seeds', type=int, default=3,
                        help='seeds each row needs for the goal (default 3)')
    parser.add_argument('--results-json', help='write the docs record here')
    return parser.parse_args(argv)


def goal(table: dict, joint: str, against, criterion: str,
         min_seeds: int, test=compare) -> dict:
    """The goal of ``joint`` against row ``against`` (None: not measured
    yet) by ``test``: reached or not, with the values; rows missing are
    named."""
    missing = [r for r in (joint, against) if r is None or r not in table]
    if missing:
        return dict(criterion=criterion, values=dict(
            missing=[r or 'an input' for r in missing]), reached=False)
    out = test(table, joint, against, min_seeds)
    return dict(out, criterion=criterion)


def short_rows(table: dict, gpu: bool = False) -> dict:
    """The rendered table: mAP, mAP50 (each with its spread), per-class
    AP50, seeds, CPU-hours and seconds per iteration per input, and (with
    ``gpu``) the peak GPU memory in MiB."""
    rows = {}
    for name, row in table.items():
        rows[name] = dict(mAP=row['mAP'], mAP_sd=row['mAP_std'],
                          mAP50=row['mAP50'], mAP50_sd=row['mAP50_std'],
                          **{f'{c} AP50': v for c, v in row['AP50'].items()},
                          seeds=len(row['seeds']), cpu_h=row['cpu_hours'],
                          s_iter=row['s_per_iter'])
        if gpu:
            rows[name]['gpu_mb'] = row['max_memory_mb']
    return rows


def report(args: argparse.Namespace) -> dict:
    tables = {}
    for folder in sorted(os.listdir(args.root)):
        path = osp.join(args.root, folder)
        if osp.isdir(path):
            records = load_records(path)
            if records:
                protocol = next(iter(next(iter(records.values())).values()))[
                    'protocol']
                tables[folder] = (protocol, records_table(records))
    if not tables:
        raise FileNotFoundError(f'{args.root} holds no unit records')
    curve = budget_curve({k: v for k, v in tables.items()
                          if v[0].get('labels', 'fusion') == 'fusion'})
    # within the noise floor everywhere: the largest budget the joint row
    # ran at (a larger one may hold the curve's inputs only)
    joint_run = [p['folder'] for p in curve
                 if args.joint in tables[p['folder']][1]]
    chosen = args.table or next(
        (p['folder'] for p in curve if p['out_of_noise']),
        (joint_run or [p['folder'] for p in curve] or sorted(tables))[-1])
    if chosen not in tables:
        raise KeyError(f'--table {chosen}: no such records folder in '
                       f'{args.root} ({sorted(tables)})')
    table = tables[chosen][1]
    inputs = {k: v for k, v in table.items()
              if k not in (args.joint, args.control, args.amp)}
    best = max(inputs, key=lambda k: inputs[k]['mAP50']) if inputs else None
    gpu = any(r['max_memory_mb'] is not None for _, t in tables.values()
              for r in t.values())
    result = {k: short_rows(t, gpu) for k, (_, t) in tables.items()}
    doc = dict(
        table=chosen, curve=curve,
        goal=goal(table, args.joint, args.twin, TWIN_CRITERION,
                  args.min_seeds),
        goal_best_input=goal(table, args.joint, best, BEST_CRITERION,
                             args.min_seeds),
        goal_control=goal(table, args.joint, args.control,
                          CONTROL_CRITERION, args.min_seeds),
        amp=goal(table, args.amp, args.joint, AMP_CRITERION, args.min_seeds,
                 within_spread),
        result=result)
    for name, (_, t) in tables.items():
        print(f'{name}: ' + ', '.join(
            f'{k} mAP50 {v["mAP50"]:.4f} ± {v["mAP50_std"]:.4f} '
            f'({len(v["seeds"])} seeds)' for k, v in t.items()))
    for point in curve:
        state = ('fewer than 2 seeds' if point['seeds'] < 2 else
                 'out of the noise floor' if point['out_of_noise'] else
                 'within the noise floor')
        print(f'curve {point["folder"]}: vi - ir = '
              f'{point["difference"]:+.4f} ({state})')
    print(f'decisive table: {chosen}; goal reached: {doc["goal"]["reached"]}'
          f'; against the best input: {doc["goal_best_input"]["reached"]}'
          f'; against the control: {doc["goal_control"]["reached"]}'
          f'; mixed precision within the spread: {doc["amp"]["reached"]}')
    if args.results_json:
        check_record_path(args.results_json)
        metrics = list(next(iter(result[chosen].values())))
        devices = {d for _, t in tables.values() for r in t.values()
                   for d in r['devices']}
        known = ', '.join(sorted(devices - {NO_DEVICE}))
        write_results_record(
            args.results_json, 'python tools/analysis_tools/task_report.py '
            + ' '.join(sys.argv[1:]), ROOT, result, row_label='input',
            metrics=metrics, count='seeds', decimals=4,
            note='Built from the unit records alone; the units were trained '
            f'on {known}' + (' (earlier units record no device)' if
                             NO_DEVICE in devices else '') +
            '. cpu_h: training CPU-hours of the row\'s seeds; s_iter: '
            'their mean training seconds per iteration (units run side by '
            'side share the device)' + ('; gpu_mb: the largest peak GPU '
                                        'memory (MiB) a unit records' if gpu
                                        else '') +
            ' (None where a unit records none).',
            **{k: doc[k] for k in ('table', 'curve') + GOALS})
    print('RESULT ' + json.dumps({k: doc[k] for k in (
        'table', ) + GOALS + ('curve', )}))
    return doc


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        report(args)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
