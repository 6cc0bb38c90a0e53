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

Methods (:data:`BUILTIN_METHODS`): the classical rules (``mean``, ``max``,
``laplacian``) and the published baselines (``SeAFusion``, ``TarDAL``
(``tardal.pt``, BatchNorm on batch statistics as its authors run it),
``TarDAL+``, ``TarDAL++`` (running statistics), ``IFCNN-MAX``; official
weights from ``--weights-root``, converted in
process into a temporary folder by
``mmfusenas.models.fusion.baselines.convert_fusion_baseline``), plus any
``--checkpoint NAME=CONFIG:CKPT``. Without ``--methods`` every built-in
method with ``default=True`` runs (:data:`DEFAULT_METHODS`: all but
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
record of the same preset, metrics and pair counts) for the methods this
run does not measure are copied before this run's rows, every row is
ranked again over the union, and the record names the merged record, its
command and commit (``merged``)::

    python benchmarks/bench_fusion_real.py --datasets TNO RoadScene \\
        --methods TIM --checkpoint TIM=CONFIG:CKPT \\
        --merge docs/results/fusion_real.json \\
        --results-json docs/results/fusion_real_tim_cpu.json
"""
import argparse
import copy
import json
import os
import os.path as osp
import shlex
import sys
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmfusenas.apis import (inference_fusion, init_model,  # noqa: E402
                            result_image, test_pipeline_cfg)
from mmfusenas.datasets import PairedImageDataset, detect_layout  # noqa
from mmfusenas.evaluation.functional import (  # noqa: E402
    FUSION_PRESETS, compute_fusion_metrics, resolve_metrics,
    summed_metrics_note)
from mmfusenas.models import ImageFusor  # noqa: E402
from mmfusenas.search.estimators import (count_flops,  # noqa: E402
                                         count_params, measure_latency)
from mmfusenas.apis.file_check import (check_dataset_files,  # noqa: E402
                                       format_skipped)
from mmfusenas.evaluation import fusion_files  # noqa: E402
from mmfusenas.utils.cli_args import require_positive  # noqa: E402
from mmfusenas.utils.fileio import atomic_write  # noqa: E402
from mmfusenas.benchmark.results_record import (  # noqa: E402
    FOOTNOTE_SIGNS, ROW_CAVEATS, write_results_record)

#: eval_fusion.py's source reading, --out checks and ranking rule
EVAL_FUSION = fusion_files
LOWER_BETTER, add_ranks = EVAL_FUSION.LOWER_BETTER, EVAL_FUSION.add_ranks

#: the metric convention (eval_fusion.py's default preset)
PRESET = 'cddfuse'

#: the test sets: name -> (folder under --data-root, modality -> sub-folder)
DATASETS: 'OrderedDict[str, Tuple[str, Dict[str, str]]]' = OrderedDict([
    ('TNO', ('TNO', {'ir': 'ir', 'vi': 'vi'})),
    ('RoadScene', ('RoadScene', {'ir': 'ir', 'vi': 'vi'})),
    ('MRI_CT', ('MRI_CT', {'mri': 'MRI', 'ct': 'CT'})),
    ('MRI_PET', ('MRI_PET', {'mri': 'MRI', 'pet': 'PET'})),
    ('MRI_SPECT', ('MRI_SPECT', {'mri': 'MRI', 'spect': 'SPECT'})),
])


@dataclass
class Method:
    """One row of the table.

    Args:
        name (str): the method's name in the table.
        config (str): model config (relative to the repository root or
            absolute).
        checkpoint (str, optional): checkpoint file; None for methods
            without weights (the classical rules).
        converter (str, optional): ``convert_fusion_baseline`` name; then
            ``weights`` is the official file it converts.
        weights (str, optional): official weight file name under
            ``--weights-root``.
        cfg_options (dict): config overrides.
        absent (str, optional): why the method cannot run (set by
            :func:`resolve_methods`).
        default (bool): runs without ``--methods``; ``False``: only when
            named.
    """
    name: str
    config: str
    checkpoint: Optional[str] = None
    converter: Optional[str] = None
    weights: Optional[str] = None
    cfg_options: dict = field(default_factory=dict)
    absent: Optional[str] = None
    default: bool = True


#: the built-in methods, in table order
BUILTIN_METHODS: Tuple[Method, ...] = (
    Method('mean', 'configs/baselines/classical_mean_ivif.py'),
    Method('max', 'configs/baselines/classical_max_ivif.py'),
    Method('laplacian', 'configs/baselines/classical_laplacian_ivif.py'),
    Method('SeAFusion', 'configs/baselines/seafusion_ivif.py',
           converter='seafusion', weights='seafusion.pth'),
    Method('TarDAL', 'configs/baselines/tardal_ivif.py',
           converter='tardal', weights='tardal.pt',
           cfg_options={'model.fusion_net.bn_mode': 'train'}),
    # a dark edge map, not a fused image (ROW_CAVEATS): only when named
    Method('TarDAL+', 'configs/baselines/tardal_ivif.py',
           converter='tardal', weights='tardal_plus.pt', default=False),
    Method('TarDAL++', 'configs/baselines/tardal_ivif.py',
           converter='tardal', weights='tardal_plusplus.pt'),
    Method('IFCNN-MAX', 'configs/baselines/ifcnn_max_ivif.py',
           converter='ifcnn_max', weights='ifcnn_max.pth'),
)
#: the built-in methods that run without ``--methods``
DEFAULT_METHODS: Tuple[str, ...] = tuple(m.name for m in BUILTIN_METHODS
                                         if m.default)


def _checkpoint_item(text: str) -> Method:
    name, sep, rest = text.partition('=')
    config, sep2, ckpt = rest.rpartition(':')
    if not (sep and sep2 and name and config and ckpt):
        raise argparse.ArgumentTypeError(
            f'expected NAME=CONFIG:CKPT, got {text!r}')
    return Method(name, config, checkpoint=ckpt)


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
        type=_checkpoint_item,
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


# ---------------------------------------------------------------- inputs
def dataset_folders(args: argparse.Namespace
                    ) -> 'OrderedDict[str, OrderedDict[str, str]]':
    """Dataset name -> (modality -> folder), checked to exist."""
    out = OrderedDict()
    if args.pairs:
        for folder in args.pairs:
            layout = detect_layout(folder)
            name = osp.basename(osp.normpath(folder))
            if name in out:
                raise ValueError(f'--pairs: two folders named {name!r}')
            out[name] = OrderedDict(
                (mod, osp.join(folder, sub)) for mod, sub in layout.items())
        return out
    for name in args.datasets or DATASETS:
        sub, prefix = DATASETS[name]
        root = osp.join(args.data_root, sub)
        if not osp.isdir(root):
            raise FileNotFoundError(f'dataset {name}: folder {root} not '
                                    'found (see --data-root)')
        out[name] = OrderedDict(
            (mod, osp.join(root, s)) for mod, s in prefix.items())
    return out


def build_pairs(folders: Dict[str, str], pipeline: List[dict],
                max_pairs: Optional[int]) -> PairedImageDataset:
    """The dataset ``tools/fuse.py`` builds, sizes checked, optionally cut
    to the first ``max_pairs`` stems."""
    dataset = PairedImageDataset(
        data_root='',
        data_prefix={m: osp.abspath(f) for m, f in folders.items()},
        pipeline=pipeline,
        test_mode=True,
        check_sizes=True,
        serialize_data=False,
        indices=max_pairs)
    return dataset


def check_inputs(folders: 'OrderedDict[str, OrderedDict[str, str]]',
                 max_pairs: Optional[int]) -> None:
    """Build every dataset and decode every file before any method runs.

    Raises:
        ValueError: unpaired stems, different sizes or undecodable files
            (the message names them; nothing is written).
    """
    pipeline = [dict(type='LoadPairedImages'), dict(type='PackFusionInputs')]
    for name, mods in folders.items():
        dataset = build_pairs(mods, pipeline, max_pairs)
        bad = check_dataset_files(dataset, progress=False)
        if bad:
            raise ValueError(
                f'{len(bad)} of {len(dataset)} pair(s) of {name} cannot be '
                'read; nothing was written:\n' + format_skipped(bad))
        for idx in range(len(dataset)):
            for path in dataset.get_data_info(idx)['img_path'].values():
                EVAL_FUSION.read_bgr8(path)  # 8-bit, opaque: as scored


# ---------------------------------------------------------------- methods
def resolve_methods(args: argparse.Namespace, workdir: str) -> List[Method]:
    """The methods to run; built-ins that cannot run get ``absent``.

    Raises:
        FileNotFoundError: a ``--checkpoint`` config or checkpoint file is
            missing (named).
        ValueError: an unknown or repeated ``--methods`` / method name.
    """
    explicit = list(args.checkpoint)
    for method in explicit:
        for kind, path in (('config', method.config),
                           ('checkpoint', method.checkpoint)):
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'--checkpoint {method.name}: {kind} file not found: '
                    f'{path}')
    methods = [Method(**vars(m)) for m in BUILTIN_METHODS] + explicit
    names = [m.name for m in methods]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f'method name(s) used twice: {repeated}')
    if args.methods:
        unknown = [n for n in args.methods if n not in names]
        if unknown:
            raise ValueError(f'--methods: unknown method(s) {unknown}; '
                             f'known: {names}')
        methods = [m for m in methods if m.name in args.methods]
    else:
        methods = [m for m in methods if m in explicit or m.default]
    for method in methods:
        if method in explicit:
            continue
        config = osp.join(ROOT, method.config)
        if not osp.isfile(config):
            method.absent = f'config {method.config} not found'
            continue
        method.config = config
        if method.converter is None:
            continue
        weights = osp.join(args.weights_root, method.weights)
        if not osp.isfile(weights):
            method.absent = f'weight file {weights} not found'
            continue
        try:
            from mmfusenas.models.fusion.baselines import \
                convert_fusion_baseline
        except ImportError as err:
            method.absent = ('converter mmfusenas.models.fusion.baselines.'
                             f'convert_fusion_baseline not available ({err})')
            continue
        ckpt = osp.join(workdir, f'{osp.splitext(method.weights)[0]}.pth')
        torch.save(convert_fusion_baseline(method.converter, weights), ckpt)
        method.checkpoint = ckpt
    return methods


def fusion_network(model: torch.nn.Module) -> torch.nn.Module:
    """The network that fuses: an ImageFusor's ``fusion_net`` (else the
    model itself)."""
    fusors = [m for m in model.modules() if isinstance(m, ImageFusor)]
    return fusors[0].fusion_net if fusors else model


def fusion_net_input(model: torch.nn.Module, size: Sequence[int],
                     workdir: str) -> Tuple[torch.nn.Module, object]:
    """The fusion network and the input it receives for one ``size`` pair.

    A random grey IR / colour VIS pair of ``size`` goes through the same
    path as the test pairs (test pipeline, data preprocessor, the fusor's
    preprocessing); the network's input is captured by a forward pre-hook,
    so its channel layout (e.g. IFCNN's three-channel sources) and padding
    are the ones inference uses.
    """
    net = fusion_network(model)
    folder = osp.join(workdir, 'cost_pair')
    rng = np.random.default_rng(0)
    height, width = size
    for mod, shape in (('ir', (height, width)), ('vi', (height, width, 3))):
        os.makedirs(osp.join(folder, mod), exist_ok=True)
        cv2.imwrite(osp.join(folder, mod, 'x.png'),
                    rng.integers(0, 256, shape, dtype=np.uint8))
    seen = []
    handle = net.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append((args, kwargs)),
        with_kwargs=True)
    try:
        dataset = build_pairs(
            {m: osp.join(folder, m) for m in ('ir', 'vi')},
            test_pipeline_cfg(model.cfg), None)
        inference_fusion(model, dataset.get_data_info(0))
    finally:
        handle.remove()
    if not seen:
        raise RuntimeError(f'{type(net).__name__} was not called by the '
                           'model\'s inference; cannot measure its cost')
    args, kwargs = seen[0]
    return net, (dict(kwargs) if kwargs else tuple(args))


def measure_cost(model: torch.nn.Module, size: Sequence[int], threads: int,
                 repeats: int, workdir: str) -> dict:
    """Parameters, FLOPs and median latency of the fusion network on
    the input of one ``size`` pair (:func:`fusion_net_input`)."""
    net, inputs = fusion_net_input(model, size, workdir)
    count = count_flops(net, inputs)
    stats = measure_latency(
        net, inputs, repeats=repeats, warmup=2, threads=threads)
    return dict(params=count_params(net), flops=int(count.flops),
                latency_ms=round(stats.median_ms, 3))


def to_eval_gray(img: np.ndarray) -> np.ndarray:
    """The grey image eval_fusion.py reads back from the written PNG."""
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return FUSION_PRESETS[PRESET]['gray'](img)


def run_method(model: torch.nn.Module, folders: Dict[str, str],
               max_pairs: Optional[int], metrics: Sequence[str]
               ) -> Tuple[dict, List[np.ndarray]]:
    """Fuse and score one dataset with a model of :func:`init_model`;
    returns (mean metrics + pairs, fused images in stem order)."""
    dataset = build_pairs(folders, test_pipeline_cfg(model.cfg), max_pairs)
    per_pair, images = [], []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        fused = result_image(inference_fusion(model, info))
        a, b = (EVAL_FUSION.read_gray(p, PRESET)
                for p in info['img_path'].values())
        per_pair.append(
            compute_fusion_metrics(a, b, to_eval_gray(fused), PRESET,
                                   metrics))
        images.append(fused)
    mean = {m: float(np.mean([r[m] for r in per_pair])) for m in metrics}
    mean['pairs'] = len(per_pair)
    return mean, images


def read_record(path: str, metrics: Sequence[str]) -> dict:
    """The ``--results-json`` record at ``path`` (for ``--merge``).

    Raises:
        ValueError: ``path`` is not valid JSON, not a record, or uses
            another preset or metrics than this run (all named).
    """
    with open(path, encoding='utf-8') as f:
        try:
            record = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'--merge {path}: not valid JSON ({err})') \
                from None
    missing = [k for k in ('command', 'commit', 'result', 'metrics',
                           'preset') if k not in record]
    if missing:
        raise ValueError(f'--merge {path}: missing key(s) {missing}; '
                         'expected a record written by --results-json')
    if record['preset'] != PRESET or list(record['metrics']) != list(
            metrics):
        raise ValueError(
            f'--merge {path}: preset {record["preset"]!r} / metrics '
            f'{record["metrics"]} differ from this run\'s {PRESET!r} / '
            f'{list(metrics)}')
    return record


def merge_rows(result: Dict[str, dict], record: dict, path: str) -> dict:
    """Put the rows of ``record`` (:func:`read_record`) for the methods
    ``result`` lacks before this run's rows, per dataset of ``result``
    (their ranks are recomputed by :func:`add_ranks`); returns
    ``{'record', 'command', 'commit'}`` of the record.

    Raises:
        ValueError: a row of the record has another pair count than this
            run's rows of the same dataset (named).
    """
    for dataset, table in result.items():
        pairs = {r['pairs'] for r in table.values() if 'pairs' in r}
        merged = OrderedDict()
        for name, row in record['result'].get(dataset, {}).items():
            if name in table:
                continue
            if 'pairs' in row and pairs and row['pairs'] not in pairs:
                raise ValueError(
                    f'--merge {path}: {dataset}/{name} was measured on '
                    f'{row["pairs"]} pairs, this run on {sorted(pairs)}')
            merged[name] = {k: v for k, v in copy.deepcopy(row).items()
                            if k not in ('rank', 'mean_rank')}
        merged.update(table)
        table.clear()
        table.update(merged)
    return dict(record=path, command=record['command'],
                commit=record['commit'])


# ---------------------------------------------------------------- outputs
def format_table(result: dict, metrics: Sequence[str]) -> str:
    """One table per dataset (value (rank) per metric, mean rank, cost);
    the note on the columns that sum two sources, and the caveat of every
    row marked ``†`` (``ROW_CAVEATS``), beneath."""
    blocks = []
    marked = [n for n in ROW_CAVEATS
              if any(n in table for table in result.values())]
    signs = {n: FOOTNOTE_SIGNS[i % len(FOOTNOTE_SIGNS)]
             for i, n in enumerate(marked)}
    for dataset, table in result.items():
        rows = [['method'] + list(metrics) +
                ['mean rank', 'params', 'GFLOPs', 'ms']]
        for name, r in table.items():
            label = f'{name} {signs[name]}' if name in signs else name
            if 'absent' in r:
                rows.append([label, f'absent: {r["absent"]}'] + [''] *
                            (len(metrics) + 2))
                continue
            rows.append([label] + [
                f'{r[m]:.4f} ({r["rank"][m]})' for m in metrics
            ] + [
                f'{r["mean_rank"]:.2f}', f'{r["params"]:,}',
                f'{r["flops"] / 1e9:.3f}', f'{r["latency_ms"]:.1f}'
            ])
        pairs = {r['pairs'] for r in table.values() if 'pairs' in r}
        blocks.append(AsciiTable(
            rows, title=f'{dataset} ({"/".join(map(str, pairs))} pairs, '
            f'{PRESET}; value (rank))').table)
    note = summed_metrics_note(PRESET, metrics)
    blocks += ([note] if note else []) + [
        f'{signs[n]} {n}: {ROW_CAVEATS[n]}' for n in marked]
    return '\n'.join(blocks)


def _cell(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """``img`` (grey or BGR) letterboxed into a BGR ``height x width``
    cell with a 2x inset of its centre quarter at the bottom right."""
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    h, w = img.shape[:2]
    scale = min(height / h, width / w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    cell = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    cell[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    sh, sw = small.shape[0] // 4, small.shape[1] // 4
    cy, cx = y0 + small.shape[0] // 2 - sh // 2, x0 + small.shape[1] // 2 - \
        sw // 2
    crop = cell[cy:cy + sh, cx:cx + sw].copy()
    inset = cv2.resize(crop, (2 * sw, 2 * sh), interpolation=cv2.INTER_NEAREST)
    cv2.rectangle(cell, (cx, cy), (cx + sw - 1, cy + sh - 1), (0, 0, 255), 1)
    iy, ix = height - 2 * sh - 2, width - 2 * sw - 2
    cell[iy:iy + 2 * sh, ix:ix + 2 * sw] = inset
    cv2.rectangle(cell, (ix - 1, iy - 1), (ix + 2 * sw, iy + 2 * sh),
                  (0, 0, 255), 1)
    return cell


def _absent_cell(height: int, width: int) -> np.ndarray:
    """A grey cell marked 'absent' (a method that could not run)."""
    cell = np.full((height, width, 3), 128, np.uint8)
    cv2.putText(cell, 'absent', (width // 2 - 30, height // 2),
                cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1,
                cv2.LINE_AA)
    return cell


def make_figure(rows: List[Tuple[str, List[np.ndarray]]],
                columns: List[str], height: int = 192,
                width: int = 256) -> np.ndarray:
    """The qualitative grid: a header row of column names, then one row per
    ``(label, images)``; a missing image (absent method) is a grey cell."""
    header = np.full((28, width * len(columns), 3), 255, np.uint8)
    for j, name in enumerate(columns):
        cv2.putText(header, name[:24], (j * width + 6, 20),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1,
                    cv2.LINE_AA)
    out = [header]
    for label, images in rows:
        cells = [
            _cell(img, height, width) if img is not None else _absent_cell(
                height, width) for img in images
        ]
        row = np.concatenate(cells, axis=1)
        cv2.putText(row, label[:30], (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 255, 255), 1, cv2.LINE_AA)
        out.append(row)
    return np.concatenate(out, axis=0)


def run(args: argparse.Namespace) -> dict:
    """Compute the table; write the outputs; return the RESULT dict."""
    metrics = list(resolve_metrics(PRESET, None))
    for path in (args.out, args.figure, args.results_json):
        if path:
            EVAL_FUSION.check_writable(path)
    merge_record = read_record(args.merge, metrics) if args.merge else None
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
                srcs = [EVAL_FUSION.read_bgr8(p)
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
