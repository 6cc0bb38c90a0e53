"""Plot losses / metrics / architecture weights of runs, as mmdet's tool.

``python tools/analysis_tools/analyze_logs.py plot_curve RUN [RUN ...]
--keys loss coco/bbox_mAP [--legend a b] [--out curves.png]``

``python tools/analysis_tools/analyze_logs.py plot_arch RUN [--keys
cell0/sc ...] --out alpha.png``

``python tools/analysis_tools/analyze_logs.py cal_train_time RUN [RUN ...]``

``RUN`` is a ``vis_data/scalars.json`` file of MMEngine's local visualiser
backend or a work / log folder holding one (the newest is used).
``plot_curve`` overlays several runs, one panel per key; ``plot_arch``
draws one heat-map strip per architecture choice point (candidates x
iterations, colour = softmax(α)) from the ``arch/<key>/<candidate>``
scalars of ``ArchLoggingHook``; ``cal_train_time`` prints the mean /
slowest / fastest seconds per training iteration (validation-epoch records
left out, see :func:`mmfusenas.visualization.log_plots.train_time`).
"""
import argparse
import os.path as osp
from typing import List, Optional

from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.visualization import (load_scalars,  # noqa: E402
                                     plot_arch_evolution, plot_curves,
                                     train_time)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Analyse training logs')
    sub = parser.add_subparsers(dest='task', required=True)
    curve = sub.add_parser('plot_curve', help='losses / metrics of runs')
    curve.add_argument('logs', nargs='+', help='scalars.json or run folders')
    curve.add_argument('--keys', nargs='+', default=['loss'],
                       help='scalar names (default: loss)')
    curve.add_argument('--legend', nargs='+',
                       help='one name per run (default: the paths)')
    curve.add_argument('--title')
    curve.add_argument('--out', help='save the figure (PNG / SVG / PDF)')
    arch = sub.add_parser('plot_arch', help='softmax(α) over the search')
    arch.add_argument('log', help='scalars.json or run folder')
    arch.add_argument('--keys', nargs='+', help='architecture keys')
    arch.add_argument('--title')
    arch.add_argument('--out', help='save the figure (PNG / SVG / PDF)')
    time = sub.add_parser('cal_train_time', help='s / iteration of runs')
    time.add_argument('logs', nargs='+', help='scalars.json or run folders')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None):
    args = parse_args(argv)
    if args.task == 'plot_curve':
        legend = args.legend or args.logs
        if len(legend) != len(args.logs):
            raise ValueError(f'--legend needs {len(args.logs)} names, got '
                             f'{len(legend)}')
        logs = {name: load_scalars(path)
                for name, path in zip(legend, args.logs)}
        fig = plot_curves(logs, args.keys, args.out, args.title)
    elif args.task == 'plot_arch':
        fig = plot_arch_evolution(load_scalars(args.log), args.out,
                                  args.keys, args.title)
    else:
        rows = [['run', 'iterations', 'mean s/iter', 'slowest', 'fastest']]
        results = {}
        for path in args.logs:
            stats = train_time(load_scalars(path))
            results[path] = stats
            rows.append([path, stats['iters'], f'{stats["mean"]:.4f}',
                         f'{stats["max"]:.4f}', f'{stats["min"]:.4f}'])
        print(AsciiTable(rows).table)
        return results
    if args.out:
        print(f'saved {args.out}')
    return fig


if __name__ == '__main__':
    main()
