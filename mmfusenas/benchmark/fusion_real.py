"""The real-data fusion table's parts (:mod:`benchmarks/bench_fusion_real.py`
and the tools that reuse it: ``task_protocol.py``, ``fusion_train_grid.py``):
the test sets, the built-in methods, running and scoring one method through
the inference path of ``tools/fuse.py``, its cost, the ranked table, the
figure and the merge of an earlier record."""
import argparse
import copy
import json
import os
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from terminaltables import AsciiTable

from mmfusenas.apis import inference_fusion, result_image, test_pipeline_cfg
from mmfusenas.datasets import PairedImageDataset, detect_layout
from mmfusenas.datasets.file_check import check_dataset_files
from mmfusenas.datasets.paired_image_dataset import listing
from mmfusenas.evaluation.fusion_files import read_bgr8, read_gray
from mmfusenas.evaluation.functional import compute_fusion_metrics
from mmfusenas.evaluation.fusion_presets import (FUSION_PRESETS,
                                                 summed_metrics_note)
from mmfusenas.models import ImageFusor
from mmfusenas.search.estimators import (count_flops, count_params,
                                         measure_latency)
from .results_record import FOOTNOTE_SIGNS, ROW_CAVEATS

#: the shipped configs (``configs/`` of a source checkout)
PACKAGE_ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                        '.mim')

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


def checkpoint_item(text: str) -> Method:
    """A ``--checkpoint NAME=CONFIG:CKPT`` value as a :class:`Method`."""
    name, sep, rest = text.partition('=')
    config, sep2, ckpt = rest.rpartition(':')
    if not (sep and sep2 and name and config and ckpt):
        raise argparse.ArgumentTypeError(
            f'expected NAME=CONFIG:CKPT, got {text!r}')
    return Method(name, config, checkpoint=ckpt)


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
                'read; nothing was written:\n' + listing(list(bad.values())))
        for idx in range(len(dataset)):
            for path in dataset.get_data_info(idx)['img_path'].values():
                read_bgr8(path)  # 8-bit, opaque: as scored


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
        config = osp.join(PACKAGE_ROOT, method.config)
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
        a, b = (read_gray(p, PRESET)
                for p in info['img_path'].values())
        per_pair.append(
            compute_fusion_metrics(a, b, to_eval_gray(fused), PRESET,
                                   metrics))
        images.append(fused)
    mean = {m: float(np.mean([r[m] for r in per_pair])) for m in metrics}
    mean['pairs'] = len(per_pair)
    return mean, images


def read_record(path: str, metrics: Sequence[str],
                cost_size: Optional[Sequence[int]] = None,
                threads: Optional[int] = None) -> dict:
    """The ``--results-json`` record at ``path`` (for ``--merge``).

    Args:
        path (str): the record.
        metrics (Sequence[str]): this run's metrics, in order.
        cost_size (Sequence[int], optional): this run's ``--cost-size``;
            given, the record's ``cost_size`` must equal it (its GFLOPs
            and ms are measured at that size).
        threads (int, optional): this run's ``--threads``; given, the
            record's (``machine.threads``) must equal it (its ms).

    Raises:
        ValueError: ``path`` is not valid JSON, not a record, or uses
            another preset, metrics, cost size or thread count than this
            run (all named).
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
    machine = record.get('machine')
    checks = (('cost_size', '--cost-size', record.get('cost_size'),
               None if cost_size is None else [int(n) for n in cost_size]),
              ('machine.threads', '--threads',
               machine.get('threads') if isinstance(machine, dict) else None,
               threads))
    for key, option, was, now in checks:
        if now is not None and was != now:
            raise ValueError(
                f'--merge {path}: the record\'s {key} '
                f'{"(not recorded)" if was is None else was} differs from '
                f'this run\'s {option} {now}: its GFLOPs / ms were '
                'measured otherwise; use a record made with the same '
                f'{option}')
    return record


def merge_rows(result: Dict[str, dict], record: dict, path: str) -> dict:
    """Put the rows of ``record`` (:func:`read_record`) for the methods
    ``result`` lacks before this run's rows, per dataset of ``result``
    (their ranks are recomputed by
    :func:`~mmfusenas.evaluation.fusion_files.add_ranks`); returns
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
