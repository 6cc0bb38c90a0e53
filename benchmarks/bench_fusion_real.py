"""The fusion table on real test pairs: every method, 11 metrics, cost.

Example (the full table; docs/model_zoo.md)::

    python benchmarks/bench_fusion_real.py --threads 1 \\
        --out work_dirs/fusion_real/table.json \\
        --results-json docs/results/fusion_real.json

    # any folder DIR/{ir,vi} (or a Harvard {MRI,CT|PET|SPECT} layout)
    python benchmarks/bench_fusion_real.py --pairs DIR \\
        --checkpoint mine=configs/tim/fusion_ivif.py:work_dirs/x/iter_100.pth

Datasets: ``TNO``, ``RoadScene`` (the 50 RoadScene test pairs), ``MRI_CT``,
``MRI_PET`` and ``MRI_SPECT`` under ``--data-root`` (default
``../shared/data/fusion``), or the folders given by ``--pairs``.

Methods (``BUILTIN_METHODS`` of :mod:`mmfusenas.benchmark.fusion_real`):
the classical rules (``mean``, ``max``,
``laplacian``) and the published baselines (``SeAFusion``, ``TarDAL``
(``tardal.pt``, BatchNorm on batch statistics as its authors run it),
``TarDAL+``, ``TarDAL++`` (running statistics), ``IFCNN-MAX``; official
weights from ``--weights-root``, converted in
process into a temporary folder by
``mmfusenas.models.fusion.baselines.convert_fusion_baseline``), plus any
``--checkpoint NAME=CONFIG:CKPT``. Without ``--methods`` every built-in
method with ``default=True`` runs (``DEFAULT_METHODS``: all but
``TarDAL+``, whose output is a dark edge map rather than a fused image,
see ``ROW_CAVEATS`` of :mod:`mmfusenas.benchmark.results_record`); a method
with a caveat is marked ``†`` in the printed table, the caveat beneath.
A built-in method whose config, converter or weight file is missing is
reported as absent with the reason (in the table, the JSON and RESULT),
never dropped; a missing file given on the
command line is an error.

Every method runs through the inference path of ``tools/fuse.py``
(:func:`mmfusenas.apis.init_model`, a
:class:`~mmfusenas.datasets.PairedImageDataset` with the config's test
pipeline, :func:`mmfusenas.apis.inference_fusion`,
:func:`mmfusenas.apis.result_image`) and is scored like
``tools/analysis_tools/eval_fusion.py`` scores the written PNGs: the same
reading of the sources (its ``read_gray``), the ``cddfuse`` convention
(OpenCV ``COLOR_BGR2GRAY`` on 8-bit images, ``docs/user_guides/evaluation.md``) and its
11 default metrics ``EN SD SF AG MI SCD VIF Qabf SSIM CC PSNR`` (all higher
is better; ``Nabf``, if requested, lower). Per dataset each method gets its
rank per metric (1 = best, ties share the best rank) and its mean rank.

Cost: parameters and FLOPs (:func:`mmfusenas.search.estimators.count_flops`,
FLOPs = 2 x MACs + other operators) of the fusion network on one
``--cost-size`` pair (default 480 x 640; a random grey IR and colour VIS
pair through the inference path, the network's input captured), and CPU
latency,
the median of ``--repeats`` forward passes with ``--threads`` threads.

Outputs: the table (stdout), ``--out`` (JSON), ``--figure`` (PNG grid: one
row per dataset's first pair(s), columns IR, VIS and every method, a 2x
zoomed inset of the centre per cell), ``--results-json`` (the
``docs/results`` record: command, commit, machine, RESULT), and last
``RESULT {json}`` = ``{dataset: {method: {metric: value, ..., 'rank':
{...}, 'mean_rank': r, 'params': n, 'flops': n, 'latency_ms': t,
'pairs': n} | {'absent': reason}}}``. Inputs are checked before any method
runs (unpaired stems, pairs of different sizes, undecodable files: an error
naming the files); outputs are written atomically after everything is
computed, so a failed run writes nothing.

``--merge RECORD`` adds a model to a committed table without measuring the
other methods again: the rows of ``RECORD`` (an earlier ``--results-json``
record of the same preset, metrics, pair counts, cost size and threads) for
the methods this run does not measure are copied before this run's rows,
every row is ranked again over the union, and the record names the merged
record, its command and commit (``merged``)::

    python benchmarks/bench_fusion_real.py --datasets TNO RoadScene \\
        --methods TIM --checkpoint TIM=CONFIG:CKPT \\
        --merge docs/results/fusion_real.json \\
        --results-json docs/results/fusion_real_tim_cpu.json
"""
import argparse
import json
import os.path as osp
import shlex
import sys
import tempfile
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import cv2
import torch

from mmfusenas.apis import init_model
from mmfusenas.benchmark.fusion_real import (  # the table's parts
    DATASETS, PRESET, build_pairs, check_inputs, checkpoint_item,
    dataset_folders, format_table, make_figure, measure_cost, merge_rows,
    read_record, resolve_methods, run_method)
from mmfusenas.benchmark.results_record import write_results_record
from mmfusenas.evaluation.fusion_presets import resolve_metrics
from mmfusenas.evaluation.fusion_files import (LOWER_BETTER, add_ranks,
                                               check_writable, read_bgr8)
from mmfusenas.utils.cli_args import require_positive
from mmfusenas.utils.fileio import atomic_write

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fusion methods on real test pairs: 11 metrics, ranks, '
        'parameters, FLOPs, CPU latency')
    parser.add_argument(
        '--data-root',
        default=osp.join('..', 'shared', 'data', 'fusion'),
        help='folder of the test sets (default ../shared/data/fusion)')
    parser.add_argument(
        '--datasets',
        nargs='+',
        choices=list(DATASETS),
        help='test sets under --data-root (default: all five)')
    parser.add_argument(
        '--pairs',
        nargs='+',
        metavar='DIR',
        help='instead of --datasets: folders DIR/{ir,vi} (or a Harvard '
        'layout); each is a dataset named after the folder')
    parser.add_argument(
        '--methods',
        nargs='+',
        metavar='NAME',
        help='only these methods (built-in names and --checkpoint names; '
        'default: every --checkpoint and the built-ins but TarDAL+, which '
        'runs only when named)')
    parser.add_argument(
        '--checkpoint',
        nargs='+',
        type=checkpoint_item,
        default=[],
        metavar='NAME=CONFIG:CKPT',
        help='a trained model to add to the table')
    parser.add_argument(
        '--weights-root',
        default=osp.join('..', 'shared', 'checkpoints', 'fusion_baselines'),
        help='official baseline weights (default '
        '../shared/checkpoints/fusion_baselines)')
    parser.add_argument(
        '--max-pairs',
        type=int,
        help='only the first N pairs (sorted by stem) of every dataset')
    parser.add_argument(
        '--cost-size',
        type=int,
        nargs=2,
        default=(480, 640),
        metavar=('H', 'W'),
        help='input size of the FLOPs / latency measurement (default 480 '
        '640)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads for inference and latency (default 1)')
    parser.add_argument(
        '--device',
        help="torch device of the methods (default: 'cuda' when available, "
        "else 'cpu'); the latency is measured there")
    parser.add_argument(
        '--repeats',
        type=int,
        default=10,
        help='timed passes of the latency (median; default 10)')
    parser.add_argument(
        '--figure-rows',
        type=int,
        default=1,
        help='pairs per dataset in the figure (default 1)')
    parser.add_argument('--out', help='write the full results JSON here')
    parser.add_argument(
        '--figure',
        help='write the qualitative PNG grid here (default: next to --out, '
        '<out>_grid.png)')
    parser.add_argument(
        '--results-json',
        help='write the docs/results record (command, commit, machine, '
        'RESULT) here, e.g. docs/results/fusion_real.json')
    parser.add_argument(
        '--merge',
        metavar='RECORD',
        help='take the rows of the methods this run does not measure from '
        'an earlier --results-json record (e.g. docs/results/'
        'fusion_real.json) and rank over the union; the record must use '
        'the same preset, metrics and pair counts')
    args = parser.parse_args(argv)
    require_positive(parser, args, ('max_pairs', 'threads', 'repeats', 'figure_rows'))
    if args.pairs and args.datasets:
        parser.error('give --datasets or --pairs, not both')
    if args.figure is None and args.out:
        args.figure = osp.splitext(args.out)[0] + '_grid.png'
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def run(args: argparse.Namespace) -> dict:
    """Compute the table; write the outputs; return the RESULT dict."""
    metrics = list(resolve_metrics(PRESET, None))
    for path in (args.out, args.figure, args.results_json):
        if path:
            check_writable(path)
    merge_record = read_record(
        args.merge, metrics, cost_size=args.cost_size,
        threads=args.threads) if args.merge else None
    folders = dataset_folders(args)
    check_inputs(folders, args.max_pairs)
    torch.set_num_threads(args.threads)
    result: Dict[str, dict] = OrderedDict((d, OrderedDict())
                                          for d in folders)
    figure_rows = {d: [] for d in folders}
    with tempfile.TemporaryDirectory(prefix='bench_fusion_real_') as tmp:
        methods = resolve_methods(args, tmp)
        for method in methods:
            if method.absent:
                print(f'{method.name}: absent ({method.absent})')
                for d in folders:
                    result[d][method.name] = {'absent': method.absent}
                continue
            model = init_model(method.config, method.checkpoint,
                               device=args.device,
                               cfg_options=method.cfg_options or None)
            cost = measure_cost(model, args.cost_size, args.threads,
                                args.repeats, tmp)
            for d, mods in folders.items():
                print(f'{method.name} on {d} ...', flush=True)
                row, images = run_method(model, mods, args.max_pairs,
                                         metrics)
                row.update(cost)
                result[d][method.name] = row
                figure_rows[d].append(images[:args.figure_rows])
    merged = merge_rows(result, merge_record, args.merge) \
        if args.merge else None
    for table in result.values():
        add_ranks(table, metrics)
    print(format_table(result, metrics))

    # all computed: write the outputs
    if args.figure:
        columns = ['IR / A', 'VIS / B'] + [m.name for m in methods]
        rows = []
        present = [m for m in methods if not m.absent]
        for d, mods in folders.items():
            dataset = build_pairs(mods, [dict(type='LoadPairedImages')],
                                  args.max_pairs)
            for k in range(min(args.figure_rows, len(dataset))):
                info = dataset.get_data_info(k)
                srcs = [read_bgr8(p)
                        for p in info['img_path'].values()]
                fused = {m.name: figure_rows[d][i][k]
                         for i, m in enumerate(present)}
                rows.append((f'{d}/{info["stem"]}',
                             srcs + [fused.get(m.name) for m in methods]))
        ok, buf = cv2.imencode('.png', make_figure(rows, columns))
        if not ok:
            raise RuntimeError('PNG encoding of the figure failed')
        atomic_write(buf.tobytes(), args.figure)
        print(f'figure written to {args.figure}')
    doc = dict(preset=PRESET, metrics=metrics,
               lower_better=sorted(LOWER_BETTER),
               cost_size=list(args.cost_size), threads=args.threads,
               max_pairs=args.max_pairs, result=result)
    if merged:
        doc['merged'] = merged
    if args.out:
        atomic_write(json.dumps(doc, indent=2), args.out)
        print(f'results written to {args.out}')
    if args.results_json:
        write_results_record(
            args.results_json,
            'python benchmarks/bench_fusion_real.py ' +
            ' '.join(shlex.quote(a) for a in args.argv),
            ROOT, result, threads=args.threads, preset=PRESET,
            metrics=metrics, cost_size=list(args.cost_size),
            **({'merged': merged} if merged else {}))
        print(f'results record written to {args.results_json}')
    print('RESULT ' + json.dumps(result))
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError, OSError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else \
            str(err)
        print(f'error: {msg}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
