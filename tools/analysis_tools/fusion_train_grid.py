"""The loss x architecture grid: train every fusion architecture under every
loss set at one budget, score each cell on real test pairs beside the
published networks, reproduce a published training against its weights.

Example (the committed grid, docs/user_guides/fusion_training.md)::

    python tools/analysis_tools/fusion_train_grid.py --max-iters 400 \\
        --threads 1 --out work_dirs/fusion_grid/table.json \\
        --results-json docs/results/fusion_real_trained.json

Cells: every ``--archs NAME=CONFIG`` (a training config; default
:data:`GRID_ARCHS`) x every ``--losses`` loss set
(``configs/_base_/losses/<name>.py``; default :data:`GRID_LOSSES`). A cell
is trained by ``tools/train.py CONFIG --work-dir WORK/ARCH/LOSS --max-iters
N --resume --cfg-options model.losses=LOSS randomness.seed=S`` with
``OMP_NUM_THREADS=--threads`` (its log: ``WORK/ARCH/LOSS/train.log``), then
fused and scored on the ``--datasets`` test pairs through the inference path
and metrics of ``benchmarks/bench_fusion_real.py`` (its scores are kept in
``WORK/ARCH/LOSS/scores.json``).

The grid resumes, reusing only what was made from the same inputs. Before a
cell trains, ``WORK/ARCH/LOSS/cell.json`` records its training key
(:func:`train_key`: the sha256 of the config, read from
``<repository>/configs/`` in any checkout, and of the files it names (a
genotype, split lists), of the loss set, the seed, ``--max-iters`` and the
sha256 of the training image files); a
cell whose key matches is not trained again once ``iter_N.pth`` exists (a
killed training continues from its last checkpoint, ``--resume``). A cell
with another key, or none, is moved to ``WORK/ARCH/LOSS.stale`` and trained
again (with ``--skip-training``: an error), naming what changed. Stored
scores are reused while their key (:func:`score_key`: the checkpoint's
sha256, the test image files' sha256 (paths relative to ``--data-root``),
the options, the metric preset and the sha256 of the scoring code,
:data:`SCORER_FILES`) matches and the file is
whole (rows checksum, every metric finite); otherwise the cell is scored
again, naming why. File hashes are cached by size and mtime in
``WORK/file_hashes.json``. Several processes may share one work dir on
disjoint ``--archs`` (each cell's training holds the work dir lock of
``tools/train.py``).

Table: the rows of ``--merge`` (a ``bench_fusion_real.py --results-json``
record: the classical rules and published networks, :data:`BASE_ROWS`;
measured at this ``--cost-size`` and ``--threads``, else an error) plus
one row ``ARCH/LOSS`` per cell, ranked together (``result``). Each cell
is also ranked against the base rows alone (``grid``: the cell's
metrics, ranks, mean rank and ``top2``, the number of metrics on which it
ranks first or second); the **goal** reads these: a cell of a
``--goal-archs`` architecture with ``top2 >= 6`` on every dataset and a
mean rank at most the best published network's (``--published``) in the
same table. ``--reproduce CELL=OFFICIAL`` reports ``trained / official``
per metric (``seafusion_reproduction``) and how many metrics are within
10 % (ratio >= 0.9 for a higher-better metric, <= 1.1 for a lower-better
one). ``--export NAME=CELL`` writes the cell's weights (a weights-only
``{'state_dict': ...}``) to ``checkpoints/NAME.pth`` and lists it under
``checkpoints`` in the record.

Outputs are written atomically after everything is computed; the last line
is ``RESULT {json}`` = ``{"grid": ..., "goal": ..., "seafusion_reproduction":
...}``.
"""
import argparse
import glob
import hashlib
import json
import math
import os
import os.path as osp
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.apis import init_model  # noqa: E402
from mmfusenas.evaluation.fusion_presets import resolve_metrics  # noqa
from mmfusenas.utils.checkpoint import (checkpoint_state_dict,  # noqa
                                        read_checkpoint)
from mmfusenas.utils.cache_keys import named_files, portable_sha256  # noqa
from mmfusenas.utils.cli_args import require_positive  # noqa: E402
from mmfusenas.utils.config import load_loss_set  # noqa: E402
from mmfusenas.registry import DATASETS  # noqa: E402
from mmfusenas.utils.fileio import (atomic_write, read_image,  # noqa
                                    read_json)
from mmfusenas.benchmark.results_record import write_results_record  # noqa
from mmfusenas.utils.state_dict_conversion import file_sha256  # noqa: E402

#: the table's inference path, metrics, merge and figure
from mmfusenas.benchmark import fusion_real  # noqa: E402
from mmfusenas.evaluation.fusion_files import (  # noqa: E402
    LOWER_BETTER, add_ranks, check_writable, read_bgr8)

#: the architectures of the grid: name -> training config
GRID_ARCHS: 'OrderedDict[str, str]' = OrderedDict([
    ('SeAFusion', 'configs/baselines/seafusion_ivif_roadscene221_cpu.py'),
    ('IFCNN', 'configs/baselines/ifcnn_max_ivif_roadscene221_cpu.py'),
    ('TarDAL', 'configs/baselines/tardal_ivif_roadscene221_cpu.py'),
    ('TIM-light', 'configs/tim/tim_light_ivif_roadscene221_cpu.py'),
    ('TIM', 'configs/tim/tim_ivif_roadscene221_cpu.py'),
    ('TIM-searched', 'configs/tim/tim_searched_ivif_roadscene221_cpu.py'),
])
#: the loss sets of the grid (configs/_base_/losses/)
GRID_LOSSES: Tuple[str, ...] = ('tim', 'content', 'content_ssim')
#: the rows of the merged record every cell is ranked against
BASE_ROWS: Tuple[str, ...] = fusion_real.DEFAULT_METHODS
#: the published networks of the base rows (the goal's reference)
PUBLISHED: Tuple[str, ...] = tuple(m.name for m in fusion_real.BUILTIN_METHODS
                                   if m.converter and m.default)
#: the architectures the goal is about
GOAL_ARCHS: Tuple[str, ...] = ('TIM', 'TIM-light', 'TIM-searched')
#: the goal: metrics ranked first or second, per dataset
GOAL_TOP2 = 6


def _pair(text: str, what: str) -> Tuple[str, str]:
    name, sep, value = text.partition('=')
    if not (sep and name and value):
        raise argparse.ArgumentTypeError(f'{what}: expected NAME=VALUE, got '
                                         f'{text!r}')
    return name, value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train fusion architectures x loss sets at one budget '
        'and score every cell on real test pairs')
    parser.add_argument(
        '--archs',
        nargs='+',
        metavar='NAME=CONFIG',
        help='architectures (training configs); default: the six of '
        'GRID_ARCHS')
    parser.add_argument(
        '--losses',
        nargs='+',
        default=list(GRID_LOSSES),
        help='loss sets (configs/_base_/losses/<name>.py); default: '
        f'{" ".join(GRID_LOSSES)}')
    parser.add_argument(
        '--max-iters',
        type=int,
        default=200,
        help='training steps per cell (the whole schedule is rescaled, '
        'tools/train.py --max-iters); default 200')
    parser.add_argument(
        '--seed', type=int, default=0, help='training seed (default 0)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads of training (OMP_NUM_THREADS), fusion and '
        'latency (default 1)')
    parser.add_argument(
        '--work-dir',
        default=osp.join('work_dirs', 'fusion_grid'),
        help='cells train and keep their scores in WORK/ARCH/LOSS')
    parser.add_argument(
        '--data-root',
        default=osp.join('..', 'shared', 'data', 'fusion'),
        help='folder of the test sets (default ../shared/data/fusion)')
    parser.add_argument(
        '--datasets',
        nargs='+',
        default=['TNO', 'RoadScene'],
        choices=list(fusion_real.DATASETS),
        help='test sets (default TNO RoadScene)')
    parser.add_argument(
        '--max-pairs',
        type=int,
        help='score only the first N pairs of every test set (quick '
        'checks; the record needs the merged record\'s pair counts)')
    parser.add_argument(
        '--cost-size',
        type=int,
        nargs=2,
        default=(480, 640),
        metavar=('H', 'W'),
        help='input size of the FLOPs / latency measurement (default 480 '
        '640, as the merged record)')
    parser.add_argument(
        '--merge',
        default=osp.join('docs', 'results', 'fusion_real.json'),
        help='bench_fusion_real.py record with the classical rules and '
        'published networks (default docs/results/fusion_real.json)')
    parser.add_argument(
        '--reproduce',
        nargs='*',
        default=['SeAFusion/content=SeAFusion'],
        metavar='CELL=OFFICIAL',
        help='report trained / official per metric for these cells '
        '(default SeAFusion/content=SeAFusion)')
    parser.add_argument(
        '--export',
        nargs='*',
        default=[],
        metavar='NAME=CELL',
        help='write the weights of these cells to checkpoints/NAME.pth '
        '(weights only) and list them in the record')
    parser.add_argument(
        '--skip-training',
        action='store_true',
        help='score the cells already trained; a cell without its '
        'checkpoint, or made from other inputs (cell.json), is an error')
    parser.add_argument('--out', help='write the full results JSON here')
    parser.add_argument(
        '--figure',
        help='write the qualitative PNG grid (first pair of every test set: '
        'IR, VIS, the base rows, every cell); default: next to --out')
    parser.add_argument(
        '--results-json',
        help='write the docs/results record (command, commit, machine, '
        'table, grid, goal, reproduction, checkpoints) here')
    args = parser.parse_args(argv)
    require_positive(parser, args, ('max_iters', 'threads', 'max_pairs'))
    try:
        args.archs = OrderedDict(
            _pair(a, '--archs') for a in args.archs) if args.archs else \
            OrderedDict(GRID_ARCHS)
        args.reproduce = OrderedDict(
            _pair(r, '--reproduce') for r in args.reproduce)
        args.export = OrderedDict(_pair(e, '--export') for e in args.export)
    except argparse.ArgumentTypeError as err:
        parser.error(str(err))
    if args.figure is None and args.out:
        args.figure = osp.splitext(args.out)[0] + '_grid.png'
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


# ---------------------------------------------------------------- cells
def cell_name(arch: str, loss: str) -> str:
    """The table row of a cell."""
    return f'{arch}/{loss}'


def cell_dir(args: argparse.Namespace, arch: str, loss: str) -> str:
    return osp.join(args.work_dir, arch, loss)


def cell_checkpoint(args: argparse.Namespace, arch: str, loss: str) -> str:
    return osp.join(cell_dir(args, arch, loss), f'iter_{args.max_iters}.pth')


def train_command(args: argparse.Namespace, config: str, arch: str,
                  loss: str) -> List[str]:
    """The ``tools/train.py`` command of one cell."""
    return [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
        cell_dir(args, arch, loss), '--max-iters',
        str(args.max_iters), '--resume', '--cfg-options',
        f'model.losses={loss}', f'randomness.seed={args.seed}'
    ]


def check_cells(args: argparse.Namespace) -> None:
    """Configs, loss sets and names checked before anything runs.

    Raises:
        FileNotFoundError: a config, the merged record or a loss set is
            missing (named).
        ValueError: a ``--reproduce`` / ``--export`` cell that is not in the
            grid, or an official row not in the merged record's base rows.
    """
    for arch, config in args.archs.items():
        if not osp.isfile(config):
            raise FileNotFoundError(f'--archs {arch}: config {config} not '
                                    'found')
    for loss in args.losses:
        load_loss_set(loss)
    if not osp.isfile(args.merge):
        raise FileNotFoundError(f'--merge: record {args.merge} not found')
    cells = {cell_name(a, lo) for a in args.archs for lo in args.losses}
    for what, names in (('--reproduce', args.reproduce),
                        ('--export', args.export.values())):
        unknown = sorted(set(names) - cells)
        if unknown:
            raise ValueError(f'{what}: cell(s) {unknown} not in the grid; '
                             f'cells: {sorted(cells)}')
    missing = sorted(set(args.reproduce.values()) - set(BASE_ROWS))
    if missing:
        raise ValueError(f'--reproduce: official row(s) {missing} not among '
                         f'the base rows {list(BASE_ROWS)}')


def text_sha256(value) -> str:
    """sha256 of a string, or of a JSON-able value."""
    text = value if isinstance(value, str) else json.dumps(
        value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


class FileHashes:
    """sha256 of files, cached in ``path`` (JSON) by absolute path, size
    and mtime, so that unchanged data is not read again on every run."""

    def __init__(self, path: str) -> None:
        self.path, self.table = path, {}
        if osp.isfile(path):
            try:
                table = read_json(path)
                self.table = table if isinstance(table, dict) else {}
            except ValueError as err:
                print(f'{err}; hashing the files again', flush=True)

    def __call__(self, path: str) -> str:
        stat = os.stat(path)
        stamp = [stat.st_size, stat.st_mtime_ns]
        entry = self.table.get(osp.abspath(path))
        if isinstance(entry, list) and len(entry) == 3 and \
                entry[:2] == stamp:
            return entry[2]
        digest = file_sha256(path)
        self.table[osp.abspath(path)] = stamp + [digest]
        return digest

    def digest(self, root: str, paths: Sequence[str]) -> str:
        """sha256 over the sorted (path relative to ``root``, sha256)."""
        return text_sha256(sorted(
            (osp.relpath(p, root), self(p)) for p in paths))

    def save(self) -> None:
        atomic_write(json.dumps(self.table), self.path)


def train_files(config: str) -> Tuple[str, List[str]]:
    """(root, image files) of a config's training set (its
    ``train_dataloader.dataset``; a relative ``data_root`` is read from the
    repository root, where ``tools/train.py`` runs)."""
    cfg = Config.fromfile(config).train_dataloader.dataset.to_dict()
    root = osp.normpath(osp.join(ROOT, cfg.get('data_root', '')))
    cfg.update(data_root=root, pipeline=[], serialize_data=False)
    cfg.pop('check_sizes', None)
    dataset = DATASETS.build(cfg)
    return root, [p for i in range(len(dataset))
                  for p in dataset.get_data_info(i)['img_path'].values()]


def train_key(args: argparse.Namespace, config: str, loss: str,
              hashes: FileHashes) -> dict:
    """What a cell's checkpoint is made from (kept in its ``cell.json``):
    no path of the checkout, so a cell is reused from any checkout."""
    plain = Config.fromfile(config).to_dict()
    # the files it names (a genotype, split lists; a relative one read from
    # the repository root, where tools/train.py runs)
    return dict(config_sha256=portable_sha256(plain),
                config_files=named_files(plain, root=ROOT, sha256=hashes),
                loss_set_sha256=text_sha256(load_loss_set(loss)),
                seed=args.seed, max_iters=args.max_iters,
                train_data_sha256=hashes.digest(*train_files(config)))


def changed(stored: dict, key: dict) -> List[str]:
    """The parts of ``key`` that differ from ``stored`` (of a dict part,
    its entries: ``part[name]``)."""
    parts = []
    for k, now in key.items():
        was = stored.get(k)
        if was == now:
            continue
        if isinstance(was, dict) and isinstance(now, dict):
            parts += [f'{k}[{n}]' for n in sorted(set(was) | set(now))
                      if was.get(n) != now.get(n)]
        else:
            parts.append(k)
    return parts + [k for k in stored if k not in key]


def stale_reason(info: str, key: dict) -> Optional[str]:
    """Why the cell of ``info`` (its ``cell.json``) was not made from
    ``key``, or None when it was."""
    if not osp.isfile(info):
        return f'{info} not found (the cell\'s inputs are not recorded)'
    try:
        stored = read_json(info)
    except ValueError as err:
        return str(err)
    if not isinstance(stored, dict) or not isinstance(stored.get('key'),
                                                      dict):
        return f'{info} is damaged (no key)'
    parts = changed(stored['key'], key)
    return f'{", ".join(parts)} changed ({info})' if parts else None


def train_cell(args: argparse.Namespace, config: str, arch: str, loss: str,
               hashes: FileHashes) -> str:
    """Train one cell unless its checkpoint exists and was made from the
    same inputs (:func:`train_key`); returns the checkpoint. A cell made
    from other inputs (or unrecorded ones) is moved to
    ``WORK/ARCH/LOSS.stale`` first.

    Raises:
        FileNotFoundError: ``--skip-training`` and no checkpoint.
        ValueError: ``--skip-training`` and a cell made from other inputs.
        RuntimeError: the training failed (names its log).
    """
    name, folder = cell_name(arch, loss), cell_dir(args, arch, loss)
    ckpt = cell_checkpoint(args, arch, loss)
    info = osp.join(folder, 'cell.json')
    key = train_key(args, config, loss, hashes)
    hashes.save()
    reason = stale_reason(info, key) if osp.isdir(folder) and \
        os.listdir(folder) else None
    if reason and args.skip_training:
        raise ValueError(f'cell {name}: {reason}; rerun without '
                         '--skip-training to train it again')
    if reason:
        stale = folder + '.stale'
        if osp.isdir(stale):
            shutil.rmtree(stale)
        os.replace(folder, stale)
        print(f'cell {name}: {reason}; moved to {stale}, training again',
              flush=True)
    elif osp.isfile(ckpt):
        return ckpt
    if args.skip_training:
        raise FileNotFoundError(f'cell {name}: checkpoint {ckpt} not found '
                                '(--skip-training)')
    os.makedirs(folder, exist_ok=True)
    atomic_write(json.dumps(dict(cell=name, key=key), indent=2), info)
    log = osp.join(folder, 'train.log')
    cmd = train_command(args, config, arch, loss)
    print(f'training {name}: {" ".join(shlex.quote(c) for c in cmd)}',
          flush=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    with open(log, 'a', encoding='utf-8') as f:
        rc = subprocess.call(cmd, cwd=ROOT, env=env, stdout=f,
                             stderr=subprocess.STDOUT)
    if rc != 0 or not osp.isfile(ckpt):
        raise RuntimeError(f'cell {name}: training failed (exit code {rc}); '
                           f'see {log}')
    return ckpt


#: the scoring code: a change to any of these files rescores every cell.
#: The modules of the functions :func:`score_cell` scores and measures with
#: (``fusion_real.run_method`` / ``measure_cost``: the inference path, the
#: image and grey conversions, the metrics, the cost) and of those they
#: call; the model (config, checkpoint) and the test files are hashed
#: apart.
SCORER_FILES: Tuple[str, ...] = (
    'mmfusenas/benchmark/fusion_real.py',
    'mmfusenas/evaluation/fusion_files.py',
    'mmfusenas/evaluation/fusion_presets.py',
    'mmfusenas/evaluation/functional/**/*.py',
    'mmfusenas/apis/inference.py',
    'mmfusenas/datasets/paired_image_dataset.py',
    'mmfusenas/datasets/transforms/loading.py',
    'mmfusenas/datasets/transforms/formatting.py',
    'mmfusenas/engine/hooks/fused_image_save_hook.py',
    'mmfusenas/search/estimators/resource_estimator.py',
    'mmfusenas/utils/fileio.py',
    'mmfusenas/utils/config_tree.py')


def scorer_sha256(hashes: FileHashes) -> str:
    """sha256 of the source of the scoring code (:data:`SCORER_FILES`)."""
    files = [f for pattern in SCORER_FILES
             for f in glob.glob(osp.join(ROOT, pattern), recursive=True)]
    return hashes.digest(ROOT, files)


def score_key(args: argparse.Namespace, ckpt: str, folders: dict,
              metrics: Sequence[str], hashes: FileHashes) -> dict:
    """What a cell's stored scores must match to be reused."""
    tests = []
    for mods in folders.values():
        pairs = fusion_real.build_pairs(mods, [], args.max_pairs)
        tests += [p for i in range(len(pairs))
                  for p in pairs.get_data_info(i)['img_path'].values()]
    return dict(checkpoint_sha256=hashes(ckpt), datasets=list(folders),
                test_data_sha256=hashes.digest(args.data_root, tests),
                max_pairs=args.max_pairs, metrics=list(metrics),
                preset=fusion_real.PRESET, scorer_sha256=scorer_sha256(hashes),
                threads=args.threads, cost_size=list(args.cost_size))


#: the entries of a stored row besides the metrics
ROW_KEYS: Tuple[str, ...] = ('pairs', 'params', 'flops', 'latency_ms')


def stored_scores(path: str, key: dict,
                  metrics: Sequence[str]) -> Optional[Dict[str, dict]]:
    """The rows of ``scores.json`` when the file is whole (valid JSON, rows
    checksum, every value finite, first fused images readable) and was
    made from ``key``; else None, saying why."""
    if not osp.isfile(path):
        return None
    try:
        stored = read_json(path)
        if not isinstance(stored, dict) or not isinstance(
                stored.get('key'), dict) or not isinstance(
                    stored.get('rows'), dict):
            raise ValueError(f'{path} is damaged (no key or rows)')
        parts = changed(stored['key'], key)
        if parts:
            raise ValueError(f'{", ".join(parts)} changed ({path})')
        rows = stored['rows']
        if stored.get('rows_sha256') != text_sha256(rows):
            raise ValueError(f'{path} is damaged (rows edited: checksum '
                             'mismatch)')
        for d in key['datasets']:
            row = rows.get(d) if isinstance(rows.get(d), dict) else {}
            bad = [k for k in list(metrics) + list(ROW_KEYS)
                   if type(row.get(k)) not in (int, float)
                   or not math.isfinite(row[k])]
            if bad:
                raise ValueError(f'{path} is damaged ({d}: missing or '
                                 f'non-finite {", ".join(bad)})')
            read_image(osp.join(osp.dirname(path), f'first_{d}.png'),
                       'color')
    except (ValueError, OSError) as err:
        print(f'{err}; scoring again', flush=True)
        return None
    return rows


def score_cell(args: argparse.Namespace, config: str, ckpt: str,
               folders: dict, metrics: Sequence[str], workdir: str,
               scores_path: str, hashes: FileHashes) -> Dict[str, dict]:
    """``{dataset: row}`` of one checkpoint (stored scores reused when
    whole and made from the same :func:`score_key`); the first fused image
    of every dataset is kept next to the scores for the figure."""
    key = score_key(args, ckpt, folders, metrics, hashes)
    hashes.save()
    rows = stored_scores(scores_path, key, metrics)
    if rows is not None:
        return rows
    model = init_model(config, ckpt)
    cost = fusion_real.measure_cost(model, args.cost_size, args.threads, 1,
                                    workdir)
    rows = OrderedDict()
    for d, mods in folders.items():
        print(f'  scoring on {d} ...', flush=True)
        row, images = fusion_real.run_method(model, mods, args.max_pairs,
                                             metrics)
        row.update(cost)
        rows[d] = row
        ok, buf = cv2.imencode('.png', images[0])
        if ok:
            atomic_write(buf.tobytes(),
                         osp.join(osp.dirname(scores_path),
                                  f'first_{d}.png'))
    atomic_write(json.dumps(dict(key=key, rows=rows,
                                 rows_sha256=text_sha256(rows)), indent=2),
                 scores_path)
    return rows


# ---------------------------------------------------------------- tables
def base_table(record: dict, dataset: str) -> 'OrderedDict[str, dict]':
    """The base rows of the merged record for one dataset (ranks
    dropped)."""
    rows = record['result'].get(dataset, {})
    return OrderedDict(
        (n, {k: v for k, v in rows[n].items()
             if k not in ('rank', 'mean_rank')})
        for n in BASE_ROWS if n in rows)


def check_pairs(base: Dict[str, dict], dataset: str, name: str, row: dict,
                args: argparse.Namespace) -> None:
    """A cell is ranked only against rows scored on as many pairs.

    Raises:
        ValueError: a base row of ``--merge`` has another pair count
            (named).
    """
    for other, ref in base.items():
        if 'pairs' in ref and ref['pairs'] != row['pairs']:
            raise ValueError(
                f'--merge {args.merge}: {dataset}/{other} was scored on '
                f'{ref["pairs"]} pairs, {name} on {row["pairs"]} (see '
                '--max-pairs)')


def rank_against_base(base: Dict[str, dict], name: str, row: dict,
                      metrics: Sequence[str]) -> dict:
    """Rank one cell's row among the base rows alone: its metrics, ranks,
    mean rank, ``top2`` and the best published mean rank of that table."""
    table = OrderedDict((n, dict(r)) for n, r in base.items())
    table[name] = dict(row)
    add_ranks(table, metrics)
    ranked = table[name]
    published = [table[n]['mean_rank'] for n in PUBLISHED
                 if n in table and 'absent' not in table[n]]
    out = {m: ranked[m] for m in metrics}
    out.update(
        pairs=ranked['pairs'],
        rank=ranked['rank'],
        mean_rank=ranked['mean_rank'],
        top2=sum(1 for m in metrics if ranked['rank'][m] <= 2),
        best_published_mean_rank=min(published) if published else None)
    return out


def within_10(ratio: float, metric: str) -> bool:
    """Whether a trained / official ratio is within 10 % on the good side
    (or better)."""
    return ratio <= 1.1 if metric in LOWER_BETTER else ratio >= 0.9


def reproduction(grid: dict, base: Dict[str, Dict[str, dict]],
                 pairs: Dict[str, str], metrics: Sequence[str]) -> dict:
    """``{cell: {dataset: {metric: trained / official}, 'within_10pct':
    {dataset: n}, 'official': name}}``."""
    out = OrderedDict()
    for cell, official in pairs.items():
        arch, _, loss = cell.partition('/')
        entry = OrderedDict(official=official)
        counts = {}
        for d, rows in base.items():
            ref = rows.get(official)
            trained = grid[arch][loss].get(d)
            if not ref or 'absent' in ref or trained is None:
                continue
            ratios = {
                m: (trained[m] / ref[m]) if ref[m] else float('nan')
                for m in metrics
            }
            entry[d] = ratios
            counts[d] = sum(1 for m, r in ratios.items() if within_10(r, m))
        entry['within_10pct'] = counts
        out[cell] = entry
    return out


def goal(grid: dict, datasets: Sequence[str], metrics: Sequence[str],
         reproduced: dict) -> dict:
    """The goal: the best ``GOAL_ARCHS`` cell's ``top2`` per dataset, and
    whether some such cell reaches ``top2 >= GOAL_TOP2`` with a mean rank
    at most the best published network's on every dataset; the reproduced
    cells' metrics within 10 % (at least 8 of the metrics on every
    dataset)."""
    best, best_key = None, None
    reached = False
    for arch in GOAL_ARCHS:
        for loss, rows in grid.get(arch, {}).items():
            if not all(d in rows for d in datasets):
                continue
            tops = [rows[d]['top2'] for d in datasets]
            ok = all(rows[d]['top2'] >= GOAL_TOP2 and
                     rows[d]['best_published_mean_rank'] is not None and
                     rows[d]['mean_rank'] <= rows[d]
                     ['best_published_mean_rank'] for d in datasets)
            reached = reached or ok
            key = (ok, min(tops), -sum(rows[d]['mean_rank']
                                       for d in datasets))
            if best_key is None or key > best_key:
                best, best_key = cell_name(arch, loss), key
    out = OrderedDict()
    out['criterion'] = (
        f'a toolbox-trained TIM cell ({", ".join(GOAL_ARCHS)}) ranks first '
        f'or second on at least {GOAL_TOP2} of the {len(metrics)} metrics '
        f'on {" and ".join(datasets)} with a mean rank at most the best '
        'published network\'s (each cell ranked among the base rows); '
        'the reproduced network within 10 % of the official weights on at '
        f'least {len(metrics) - 3} of the {len(metrics)} metrics on each')
    out['tim_best_cell'] = best
    for d in datasets:
        out[f'tim_top2_{d}'] = (grid[best.split('/')[0]][best.split(
            '/', 1)[1]][d]['top2'] if best else 0)
    out['tim_reached'] = reached
    within = {c: e['within_10pct'] for c, e in reproduced.items()}
    out['reproduction_within_10pct'] = within
    repro_ok = bool(within) and all(
        len(counts) == len(datasets) and
        all(n >= len(metrics) - 3 for n in counts.values())
        for counts in within.values())
    out['reproduction_reached'] = repro_ok
    out['reached'] = bool(reached and repro_ok)
    return out


#: the summary tables of the record (rendered after the full tables)
SUMMARY_MEAN_RANK = 'mean rank of each cell among the base rows'
SUMMARY_TOP2 = ('metrics on which each cell ranks 1st or 2nd among the base '
                'rows')


def summary_tables(grid: dict, datasets: Sequence[str],
                   losses: Sequence[str]) -> Tuple[dict, dict]:
    """Two architecture x (loss, dataset) tables: each cell's mean rank
    and ``top2`` among the base rows; returns (tables, their columns)."""
    columns = [f'{lo} {d}' for lo in losses for d in datasets]
    tables = OrderedDict()
    for title, key in ((SUMMARY_MEAN_RANK, 'mean_rank'),
                       (SUMMARY_TOP2, 'top2')):
        tables[title] = OrderedDict(
            (arch, {f'{lo} {d}': rows[lo][d][key]
                    for lo in losses for d in datasets if lo in rows})
            for arch, rows in grid.items())
    return tables, {t: columns for t in tables}


def export_checkpoints(args: argparse.Namespace) -> dict:
    """Write ``checkpoints/NAME.pth`` (weights only) for ``--export``."""
    out = OrderedDict()
    for name, cell in args.export.items():
        arch, _, loss = cell.partition('/')
        src = cell_checkpoint(args, arch, loss)
        state = checkpoint_state_dict(read_checkpoint(src), src)
        dst = osp.join('checkpoints', f'{name}.pth')
        with tempfile.NamedTemporaryFile(suffix='.pth', delete=False) as tmp:
            torch.save({'state_dict': dict(state)}, tmp.name)
        with open(tmp.name, 'rb') as f:
            atomic_write(f.read(), dst)
        os.unlink(tmp.name)
        out[name] = OrderedDict(
            config=args.archs[arch], checkpoint=dst, architecture=arch,
            loss=loss, sha256=file_sha256(dst))
        print(f'weights of {cell} written to {dst}')
    return out


def figure_rows(args: argparse.Namespace, folders: dict,
                cells: List[Tuple[str, str]], tmp: str
                ) -> Tuple[List[str], list]:
    """Columns and rows of the qualitative grid: the first pair of every
    test set, IR, VIS, the base rows (fused here) and every cell (its
    stored first image)."""
    ns = argparse.Namespace(checkpoint=[], methods=list(BASE_ROWS),
                            weights_root=osp.join('..', 'shared',
                                                  'checkpoints',
                                                  'fusion_baselines'))
    base = fusion_real.resolve_methods(ns, tmp)
    columns = ['IR', 'VIS'] + [m.name for m in base] + [
        cell_name(a, lo) for a, lo in cells]
    images = {d: [] for d in folders}
    for method in base:
        if method.absent:
            for d in folders:
                images[d].append(None)
            continue
        model = init_model(method.config, method.checkpoint,
                           cfg_options=method.cfg_options or None)
        for d, mods in folders.items():
            images[d].append(
                fusion_real.run_method(model, mods, 1, ['EN'])[1][0])
    rows = []
    for d, mods in folders.items():
        dataset = fusion_real.build_pairs(
            mods, [dict(type='LoadPairedImages')], 1)
        info = dataset.get_data_info(0)
        srcs = [read_bgr8(p)
                for p in info['img_path'].values()]
        fused = [read_image(osp.join(cell_dir(args, a, lo),
                                     f'first_{d}.png'), 'color')
                 for a, lo in cells]
        rows.append((f'{d}/{info["stem"]}', srcs + images[d] + fused))
    return columns, rows


def run(args: argparse.Namespace) -> dict:
    metrics = list(resolve_metrics(fusion_real.PRESET, None))
    for path in (args.out, args.figure, args.results_json):
        if path:
            check_writable(path)
    check_cells(args)
    record = fusion_real.read_record(args.merge, metrics,
                                     cost_size=args.cost_size,
                                     threads=args.threads)
    ns = argparse.Namespace(pairs=None, datasets=args.datasets,
                            data_root=args.data_root)
    folders = fusion_real.dataset_folders(ns)
    fusion_real.check_inputs(folders, args.max_pairs)
    torch.set_num_threads(args.threads)
    cells = [(a, lo) for a in args.archs for lo in args.losses]
    grid = OrderedDict((a, OrderedDict()) for a in args.archs)
    table = OrderedDict((d, base_table(record, d)) for d in folders)
    base = {d: OrderedDict(t) for d, t in table.items()}
    hashes = FileHashes(osp.join(args.work_dir, 'file_hashes.json'))
    with tempfile.TemporaryDirectory(prefix='fusion_grid_') as tmp:
        for arch, loss in cells:
            ckpt = train_cell(args, args.archs[arch], arch, loss, hashes)
            print(f'{cell_name(arch, loss)}: scoring {ckpt}', flush=True)
            rows = score_cell(args, args.archs[arch], ckpt, folders, metrics,
                              tmp, osp.join(cell_dir(args, arch, loss),
                                            'scores.json'), hashes)
            grid[arch][loss] = OrderedDict()
            for d, row in rows.items():
                check_pairs(base[d], d, cell_name(arch, loss), row, args)
                table[d][cell_name(arch, loss)] = dict(row)
                grid[arch][loss][d] = rank_against_base(
                    base[d], cell_name(arch, loss), row, metrics)
        columns, fig_rows = figure_rows(args, folders, cells, tmp) \
            if args.figure else (None, None)
    for t in table.values():
        add_ranks(t, metrics)
    print(fusion_real.format_table(table, metrics))
    for arch, rows in grid.items():
        print(f'{arch}: ' + ', '.join(
            f'{lo} {d} mean rank {r[d]["mean_rank"]} (top-2 on '
            f'{r[d]["top2"]})' for lo, r in rows.items() for d in r))
    reproduced = reproduction(grid, base, args.reproduce, metrics)
    goal_doc = goal(grid, list(folders), metrics, reproduced)
    for cell, entry in reproduced.items():
        for d in folders:
            if d in entry:
                print(f'{cell} / {entry["official"]} on {d}: ' + ' '.join(
                    f'{m} {r:.3f}' for m, r in entry[d].items()))
    print('goal: ' + json.dumps(goal_doc))

    summaries, columns_of = summary_tables(grid, list(folders),
                                           args.losses)
    table.update(summaries)

    # all computed: write the outputs
    checkpoints = export_checkpoints(args)
    budget = dict(max_iters=args.max_iters, seed=args.seed,
                  threads=args.threads,
                  note='per cell: the config\'s batch and crops (batch 8 '
                  'random 64x64 crops, flips, 90-degree rotations), its '
                  'optimiser and schedule rescaled to max_iters, '
                  'RoadScene221 training split')
    doc = OrderedDict(preset=fusion_real.PRESET, metrics=metrics,
                      table_metrics=columns_of,
                      archs=dict(args.archs), losses=list(args.losses),
                      budget=budget, grid=grid, goal=goal_doc,
                      seafusion_reproduction=reproduced,
                      checkpoints=checkpoints, result=table)
    if args.figure:
        ok, buf = cv2.imencode('.png',
                               fusion_real.make_figure(fig_rows, columns))
        if not ok:
            raise RuntimeError('PNG encoding of the figure failed')
        atomic_write(buf.tobytes(), args.figure)
        print(f'figure written to {args.figure}')
    if args.out:
        atomic_write(json.dumps(doc, indent=2), args.out)
        print(f'results written to {args.out}')
    if args.results_json:
        extra = {k: v for k, v in doc.items() if k != 'result'}
        write_results_record(
            args.results_json, 'python tools/analysis_tools/'
            'fusion_train_grid.py ' + ' '.join(
                shlex.quote(a) for a in args.argv), ROOT, table,
            threads=args.threads,
            merged=dict(record=args.merge, command=record['command'],
                        commit=record['commit']), **extra)
        print(f'results record written to {args.results_json}')
    result = dict(grid=grid, goal=goal_doc,
                  seafusion_reproduction=reproduced)
    print('RESULT ' + json.dumps(result))
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError, OSError, KeyError,
            RuntimeError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else \
            str(err)
        print(f'error: {msg}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
