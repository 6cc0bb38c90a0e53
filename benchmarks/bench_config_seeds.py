"""Compare whole configs over seeds: each (variant, seed) a full training run.

Usage::

    python benchmarks/bench_config_seeds.py \\
        --variants fpn=configs/tim/retinanet_ivif_fpn_toy.py \\
                   searched=configs/tim/retinanet_ivif_toy.py \\
        --seeds 0 1 2 --metrics coco/bbox_mAP coco/bbox_mAP_50 \\
        [--cfg-options K=V ...] \\
        [--variant-cfg-options searched:model.detector.neck.genotype=G.yaml]
        [--data-root DIR] [--count-params PATH ...] [--jobs 2]
        [--threads 1] [--work-dir DIR] [--out result.json] [--reuse]
        [--rank-among r0 r1 ... [--lower-better]]

Every variant is a config (``label=path``); every (variant, seed) is one
*unit*: the config trained exactly as ``tools/train.py`` trains it
(:func:`~mmfusenas.utils.config.load_runner_config` with the common
``--cfg-options``, then the variant's own, and ``--data-root``;
:func:`~mmfusenas.engine.runner.build_runner`; ``runner.train()``) -- the
config's own model (e.g. N_F trained jointly with the detector), schedule,
hooks and validation -- with two changes: ``randomness.seed`` is the unit's
seed (``deterministic=False``; the config's other randomness keys are kept)
and ``work_dir`` is ``<work-dir>/<label>/seed_<S>``. A hook records the
metrics of every validation; the unit's result (``result.json`` in its work
dir, written atomically) holds the metrics of the *last* validation, every
validation's metrics with its iteration and epoch, the parameters of the
whole model and of each ``--count-params`` path (default
``detector.neck``, where the model has one) and the wall seconds.

The units run in ``--jobs`` worker processes (this script with a hidden
``--unit FILE``, ``--threads`` torch threads each; the output of a unit in
its ``unit.log``) scheduled by
:func:`mmfusenas.benchmark.process_units.run_process_units`; ``--jobs 1``
runs them one after another in this process. A unit that fails stops the
benchmark with the end of its log; a requested metric that the last
validation did not report is an error naming the keys it did report.

The table has one row per variant: the parameters, each metric per seed,
its mean +- population std over the seeds, and the difference of the
variant's mean to the first variant's, +- the population std of the
per-seed differences (the variants share the seeds: the same seed gives
the same data order and, up to where the models differ, the same
initialisation). The last line is ``RESULT {json}``::

    {<variant>: {<metric>: {"per_seed": [...], "mean": m, "std": s,
                            "diff": {"per_seed": [...], "mean": d,
                                     "std": sd}},   # not for the first
                 "params": {"model": n, "detector.neck": n},
                 "config": path, "cfg_options": {...},
                 "unit_seconds": [...]},
     "signal_vs_noise": {<metric>: {"between_sd": b, "reliability": r,
                                    ...}},
     "ranks": {<metric>: {"group": [...], "group_median": m,
                          "rank_pct": {<variant>: pct}}},  # --rank-among
     "seeds": [...], "metrics": [...], "seconds": t}

A search-vs-random control at the scale of a whole config: with
``--rank-among LABEL ...`` (e.g. random genotypes of a space), ``ranks``
gives per metric the group's median mean and every other variant's rank
percentile among the group's means (the percent of the group it beats,
ties half; higher metrics are better, lower with ``--lower-better``).
``signal_vs_noise`` (per metric, at least 3 variants) are the variance
components of the variants x seeds table: do the variants differ beyond
the seed noise at all (``mmfusenas.benchmark.control_stats.signal_vs_noise``)?

``--reuse`` takes the result of a unit whose ``result.json`` is already in
its work dir instead of training it again (an interrupted comparison goes
on; variants are added beside finished ones, e.g. run folders copied in
under their labels), provided the result records the same config file
(the same path from ``configs/`` on: another checkout of the project
counts) with the same content (``config_sha256``, :func:`config_sha256`:
its ``_base_`` files included), the same ``--data-root`` (from the
repository root on where it lies inside it), options, environment and
seed as the unit; a result that records others (or none of them: a run
from before they were recorded) is an error.

``--out FILE`` writes the same JSON. Relative paths (configs, the data of
the configs, genotype files in options) are read from the folder the
benchmark is started in; the workers run there too.
"""
import argparse
import copy
import json
import os
import os.path as osp
import re
import shlex
import sys
import time
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from unittest import mock

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

from mmfusenas.utils.cache_keys import (  # noqa: E402
    named_files, portable_sha256)
from mmfusenas.engine.runner import build_runner  # noqa: E402
from mmfusenas.models.mutables import config_at  # noqa: E402
from mmfusenas.utils.config import load_runner_config  # noqa: E402
from mmfusenas.utils.distributed import unwrap  # noqa: E402
from mmfusenas.utils.fileio import atomic_write  # noqa: E402
from mmfusenas.benchmark.seed_runs import seed_dir  # noqa: E402
from mmfusenas.benchmark.results_record import (  # noqa: E402
    check_record_path, write_results_record)
from mmfusenas.benchmark.process_units import (  # noqa: E402
    ProcessUnit, launch_unit_worker, run_process_units)

from mmfusenas.search.estimators import (config_cost,  # noqa: E402
                                         largest_width)

from mmfusenas.benchmark.control_stats import (  # noqa: E402
    rank_pct, signal_vs_noise)

#: the parameter count reported by default (where the model has it)
DEFAULT_COUNT_PATHS = ('detector.neck', )
#: top-level keys of the result beside the variants (no label may take one)
RESERVED = ('seeds', 'metrics', 'seconds', 'signal_vs_noise', 'ranks')
_LABEL = re.compile(r'^[A-Za-z0-9_.+-]+$')


# ------------------------------------------------------------------ parsing
def parse_variants(items: Sequence[str]) -> 'OrderedDict[str, str]':
    """``['label=path', ...]`` -> ``{label: absolute config path}`` (order
    kept: the first variant is the reference of the differences).

    Raises:
        ValueError: an item without ``=``, an empty or unusable label (it
            names a folder: letters, digits, ``_ . + -``), a repeated label,
            no variants.
        FileNotFoundError: a config file that does not exist.
    """
    if not items:
        raise ValueError('--variants: give at least one label=config.py')
    out: 'OrderedDict[str, str]' = OrderedDict()
    for item in items:
        label, sep, path = item.partition('=')
        if not sep or not label or not path:
            raise ValueError(f'--variants {item!r}: expected label=path '
                             '(e.g. fpn=configs/tim/retinanet_ivif_fpn_toy.py)')
        if not _LABEL.match(label):
            raise ValueError(f'--variants {item!r}: the label {label!r} names '
                             'a folder: use letters, digits, _ . + - only')
        if label in RESERVED:
            raise ValueError(f'--variants {item!r}: {label!r} is a key of '
                             f'the result JSON; choose another label')
        if label in out:
            raise ValueError(f'--variants: the label {label!r} is given '
                             'twice; labels must be unique')
        if not osp.isfile(path):
            raise FileNotFoundError(f'--variants {item!r}: config file not '
                                    f'found: {osp.abspath(path)}')
        out[label] = osp.abspath(path)
    return out


def _labelled_pairs(items: Optional[Sequence[str]], labels: Sequence[str],
                    option: str, example: str) -> List[tuple]:
    """``['label:key=value', ...]`` -> ``[(label, key, value), ...]``.

    Raises:
        ValueError: an item not of the form ``label:key=value``, or a label
            that is no variant (``option`` and ``example`` in the message).
    """
    out = []
    for item in items or ():
        label, sep, kv = item.partition(':')
        key, eq, value = kv.partition('=')
        if not sep or not eq or not label or not key:
            raise ValueError(f'{option} {item!r}: expected label:key=value '
                             f'(e.g. {example})')
        if label not in labels:
            raise ValueError(f'{option} {item!r}: {label!r} is no variant; '
                             f'the variants are {list(labels)}')
        out.append((label, key, value))
    return out


def parse_variant_cfg_options(items: Optional[Sequence[str]],
                              labels: Sequence[str]
                              ) -> Dict[str, Dict[str, Any]]:
    """``['label:key=value', ...]`` -> ``{label: {key: value}}`` (values
    parsed as ``--cfg-options`` parses them: numbers, booleans, lists,
    tuples).

    Raises:
        ValueError: an item not of the form ``label:key=value``, or a label
            that is no variant.
    """
    out: Dict[str, Dict[str, Any]] = {}
    for label, key, value in _labelled_pairs(
            items, labels, '--variant-cfg-options',
            'searched:model.detector.neck.out_channels=32'):
        out.setdefault(label, {})[key] = DictAction._parse_iterable(value)
    return out


def parse_variant_env(items: Optional[Sequence[str]],
                      labels: Sequence[str]) -> Dict[str, Dict[str, str]]:
    """``['label:KEY=VALUE', ...]`` -> ``{label: {KEY: VALUE}}`` (strings).

    Raises:
        ValueError: as :func:`parse_variant_cfg_options`.
    """
    out: Dict[str, Dict[str, str]] = {}
    for label, key, value in _labelled_pairs(
            items, labels, '--variant-env', 'aten:MALLOC_ARENA_MAX=2'):
        out.setdefault(label, {})[key] = value
    return out


def _json_round_trip(opts: Mapping[str, Any]) -> Dict[str, Any]:
    """The options as a worker reads them back from its unit file (tuples
    become lists), so that every ``--jobs`` builds the same configs."""
    return json.loads(json.dumps(dict(opts)))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--variants', nargs='+', default=None,
                   metavar='LABEL=CONFIG',
                   help='the configs compared; the first is the reference '
                   'of the differences')
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2],
                   help='randomness.seed of the runs (default 0 1 2)')
    p.add_argument('--metrics', nargs='+', default=None,
                   help='validation metrics compared, as the evaluator names '
                   'them (e.g. coco/bbox_mAP); the last validation of a run '
                   'counts')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   default=None, help='options merged into every variant '
                   '(as tools/train.py --cfg-options)')
    p.add_argument('--variant-cfg-options', nargs='+', default=None,
                   metavar='LABEL:KEY=VALUE',
                   help="options of one variant, merged after the common "
                   "ones (e.g. searched:model.detector.neck.genotype=G.yaml)")
    p.add_argument('--variant-env', nargs='+', default=None,
                   metavar='LABEL:KEY=VALUE',
                   help='environment variables set while a variant trains '
                   '(e.g. aten:MALLOC_ARENA_MAX=2)')
    p.add_argument('--data-root', default=None,
                   help='re-root every dataset of every config here (as '
                   'tools/train.py --data-root)')
    p.add_argument('--count-params', nargs='+', default=None, metavar='PATH',
                   help='also count the parameters of these sub-modules of '
                   'the model (dotted paths; an error where one is missing); '
                   f'default {" ".join(DEFAULT_COUNT_PATHS)} where the model '
                   'has it')
    p.add_argument('--jobs', type=int, default=1,
                   help='worker processes at a time (1: every run in this '
                   'process, one after another)')
    p.add_argument('--threads', type=int, default=1,
                   help='torch threads of each run (OMP_NUM_THREADS of the '
                   'workers); default 1')
    p.add_argument('--work-dir', default='work_dirs/bench_config_seeds',
                   help='runs go to <work-dir>/<label>/seed_<S> (kept)')
    p.add_argument('--out', default=None, help='also write the JSON here')
    p.add_argument('--from-runs', default=None, metavar='FILE',
                   help='train nothing: tabulate the unit results of FILE '
                   '({"source": text, "runs": {label: {seed: {"metrics", '
                   '"params", "config", "cfg_options", "seconds"}}}}), runs '
                   'whose folders were not kept; --variants is not needed')
    p.add_argument('--results-json', default=None, metavar='FILE',
                   help='also write the docs/results record (one table: '
                   'each variant\'s metrics per seed, mean, std and rank '
                   'among --rank-among) to FILE')
    p.add_argument('--labels', nargs='+', default=None, metavar='LABEL=NAME',
                   help='row names of the --results-json table')
    p.add_argument('--rank-among', nargs='+', default=None, metavar='LABEL',
                   help='rank every other variant among these (e.g. random '
                   "genotypes): the group's median and each variant's "
                   'percentile, per metric')
    p.add_argument('--lower-better', action='store_true',
                   help='--rank-among: a lower metric is better (losses)')
    p.add_argument('--reuse', action='store_true',
                   help='read the result.json of a unit already in its work '
                   'dir instead of training it (it must record the same '
                   'config file and content, --data-root, options and '
                   'seed)')
    p.add_argument('--fit-width', nargs='+', default=None, metavar='LABEL',
                   help='rebuild these variants at the largest of '
                   '--fit-widths whose --fit-part costs no more than the '
                   "--fit-ref variant's (e.g. searched necks within the "
                   "FPN's FLOPs); the width goes to every --fit-keys")
    p.add_argument('--fit-ref', default=None, metavar='LABEL',
                   help='the variant whose cost caps the fitted widths '
                   '(default: the first variant)')
    p.add_argument('--fit-widths', nargs='+', type=int,
                   default=[64, 56, 48, 40, 32, 24, 16])
    p.add_argument('--fit-keys', nargs='+',
                   default=['model.detector.neck.out_channels',
                            'model.detector.bbox_head.in_channels'],
                   help='config keys that take the width')
    p.add_argument('--fit-part', default='model.detector',
                   help='the sub-config costed (built in --fit-scope)')
    p.add_argument('--fit-scope', default='mmdet')
    p.add_argument('--fit-res', type=int, default=128,
                   help='side of the square image the cost is taken on')
    p.add_argument('--fit-cap', nargs='+', default=['gflops'],
                   choices=['gflops', 'params_m'],
                   help="the caps: GFLOPs (default) and / or parameters")
    p.add_argument('--unit', default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def check_args(args: argparse.Namespace) -> 'OrderedDict[str, str]':
    """Validate the options; return the variants (:func:`parse_variants`).

    Raises:
        ValueError / FileNotFoundError: naming the option at fault.
    """
    if args.from_runs:
        # read once: main tables these runs, the record cites the source
        args.runs, args.runs_source = load_runs(args.from_runs, args.seeds)
        variants = runs_variants(args.runs)
    else:
        variants = parse_variants(args.variants or ())
    args.variant_opts = parse_variant_cfg_options(args.variant_cfg_options,
                                                  list(variants))
    args.variant_env = parse_variant_env(args.variant_env, list(variants))
    if not args.metrics:
        raise ValueError('--metrics: name at least one validation metric '
                         '(e.g. coco/bbox_mAP)')
    if len(set(args.metrics)) != len(args.metrics):
        raise ValueError(f'--metrics: repeated names in {args.metrics}')
    if not args.seeds or len(set(args.seeds)) != len(args.seeds):
        raise ValueError(f'--seeds: give distinct seeds, got {args.seeds}')
    if args.jobs < 1:
        raise ValueError(f'--jobs must be >= 1, got {args.jobs}')
    if args.threads < 1:
        raise ValueError(f'--threads must be >= 1, got {args.threads}')
    labels = list(variants)
    for label in (args.fit_width or []) + [args.fit_ref or labels[0]]:
        if label not in labels:
            raise ValueError(f'--fit-width / --fit-ref: {label!r} is no '
                             f'variant; the variants are {labels}')
    for label in args.rank_among or []:
        if label not in labels:
            raise ValueError(f'--rank-among: {label!r} is no variant; the '
                             f'variants are {labels}')
    bad = [x for x in args.labels or () if '=' not in x]
    if bad:
        raise ValueError(f'--labels: expected LABEL=NAME, got {bad}')
    if args.rank_among and (len(set(args.rank_among)) < 2
                            or set(args.rank_among) >= set(labels)):
        raise ValueError('--rank-among: give at least 2 distinct variants '
                         'and leave at least one variant to rank')
    if args.fit_width and (args.fit_ref or labels[0]) in args.fit_width:
        raise ValueError('--fit-ref: the reference variant cannot be fitted '
                         'to its own cost')
    if args.fit_width and (not args.fit_widths or min(args.fit_widths) < 1):
        raise ValueError(f'--fit-widths: positive widths, got '
                         f'{args.fit_widths}')
    if args.data_root is not None and not osp.isdir(args.data_root):
        raise FileNotFoundError(f'--data-root folder does not exist: '
                                f'{osp.abspath(args.data_root)}')
    return variants


def load_runs(path: str, seeds: Sequence[int]
              ) -> Tuple[Dict[str, Dict[int, dict]], str]:
    """``--from-runs``: ``({label: {seed: unit result}}, source)`` of
    ``path`` (``source``: the file's text on where the runs come from).

    Raises:
        FileNotFoundError / ValueError: the file is missing, is not
            ``{"runs": {label: {seed: {"metrics": {...}, ...}}}}``, or lacks
            a seed of ``seeds`` (each named).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'--from-runs: {osp.abspath(path)} not found')
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    runs = data.get('runs') if isinstance(data, dict) else None
    if not isinstance(runs, dict) or not runs:
        raise ValueError(f'--from-runs {path}: expected {{"runs": {{label: '
                         '{seed: unit result}}}}')
    out: Dict[str, Dict[int, dict]] = OrderedDict()
    for label, by_seed in runs.items():
        if not _LABEL.match(label) or label in RESERVED:
            raise ValueError(f'--from-runs {path}: unusable label {label!r}')
        got = {int(k): v for k, v in by_seed.items()}
        missing = [sd for sd in seeds if sd not in got]
        if missing:
            raise ValueError(f'--from-runs {path}: {label!r} has no run for '
                             f'seed(s) {missing}')
        for sd in seeds:
            if not isinstance(got[sd].get('metrics'), dict):
                raise ValueError(f'--from-runs {path}: {label!r} seed {sd} '
                                 'has no "metrics" dict')
            got[sd] = dict(dict(params={}, config=None, cfg_options={},
                                seconds=None), **got[sd])
        out[label] = got
    return out, data.get('source', '')


def runs_variants(runs: Mapping[str, Mapping[int, dict]]
                  ) -> 'OrderedDict[str, str]':
    """The variants of ``--from-runs`` (label -> the config recorded)."""
    return OrderedDict((label, by_seed[next(iter(by_seed))]['config'] or '')
                       for label, by_seed in runs.items())


def results_record(out: Mapping[str, Any], labels: Sequence[str],
                   names: Mapping[str, str], title: str) -> Dict[str, dict]:
    """The ``result`` of a ``docs/results`` record: one table, a row per
    variant (``names`` renames them) with each metric per seed (``<metric>
    s<seed>``), its mean and std, the seeds and, with ``ranks``, the rank
    percentile among the group (``<metric> rank %``; ``group`` for its
    members) and the parameters of the whole model."""
    rows: Dict[str, dict] = OrderedDict()
    ranks = out.get('ranks', {})
    for label in labels:
        row: Dict[str, Any] = {}
        for m in out['metrics']:
            r = out[label][m]
            for sd, v in zip(out['seeds'], r['per_seed']):
                row[f'{m} s{sd}'] = round(v, 4)
            row[f'{m} mean'] = round(r['mean'], 4)
            row[f'{m} std'] = round(r['std'], 4)
            if m in ranks:
                pct = ranks[m]['rank_pct'].get(label)
                row[f'{m} rank %'] = 'group' if pct is None else pct
        row['seeds'] = len(out['seeds'])
        params = out[label].get('params') or {}
        if params.get('model') is not None:
            row['params'] = int(params['model'])
        rows[names.get(label, label)] = row
    return {title: rows}


# ------------------------------------------------------------------ a unit
class ValMetricsRecorder(Hook):
    """Record the metrics of every validation of a run.

    ``records`` is a list of ``dict(iter=..., epoch=..., metrics={...})``
    (the runner's iteration and epoch when the validation ended; the
    metrics as numbers where they are numbers).
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.records: List[dict] = []

    def after_val_epoch(self, runner, metrics: Optional[Dict] = None) -> None:
        self.records.append(
            dict(iter=int(runner.iter), epoch=int(runner.epoch),
                 metrics={str(k): _plain(v)
                          for k, v in (metrics or {}).items()}))


def _plain(value: Any) -> Any:
    """A metric value as JSON can hold it (numbers as float)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


def pick_metrics(metrics: Mapping[str, Any], names: Sequence[str],
                 where: str) -> Dict[str, float]:
    """``{name: metrics[name]}`` for every requested name.

    Raises:
        KeyError: a name the validation did not report, with the keys it
            did report.
    """
    missing = [n for n in names if n not in metrics]
    if missing:
        raise KeyError(f'{where}: the metric(s) {missing} were not reported '
                       f'by the last validation; it reported '
                       f'{sorted(metrics)}')
    return {n: metrics[n] for n in names}


def count_params(model: torch.nn.Module, paths: Optional[Sequence[str]]
                 ) -> Dict[str, Optional[int]]:
    """Parameters of the whole model (``'model'``) and of each sub-module
    path. ``paths=None``: :data:`DEFAULT_COUNT_PATHS`, each None where the
    model has no such sub-module.

    Raises:
        AttributeError: a path given explicitly that the model lacks.
    """
    model = unwrap(model)
    out: Dict[str, Optional[int]] = {
        'model': sum(p.numel() for p in model.parameters())}
    for path in (DEFAULT_COUNT_PATHS if paths is None else paths):
        try:
            sub = model.get_submodule(path)
        except AttributeError:
            if paths is None:
                out[path] = None
                continue
            raise AttributeError(
                f'--count-params {path}: the model ({type(model).__name__}) '
                f'has no such sub-module; its children are '
                f'{[n for n, _ in model.named_children()]}') from None
        out[path] = sum(p.numel() for p in sub.parameters())
    return out


def run_unit(unit: dict) -> dict:
    """Train one (variant, seed) as ``tools/train.py`` would; return its
    result (see the module docstring)."""
    args = argparse.Namespace(
        config=unit['config'], cfg_options=unit['cfg_options'] or None,
        data_root=unit['data_root'], work_dir=unit['work_dir'],
        launcher='none', local_rank=0, tensorboard=False)
    cfg = load_runner_config(args)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=unit['seed'],
                          deterministic=False)
    # one name per unit: the logger / visualizer instances of two runs in
    # one process never mix
    cfg.experiment_name = (f"{unit['label']}_seed{unit['seed']}_"
                           f"{time.strftime('%Y%m%d_%H%M%S')}")
    torch.set_num_threads(unit['threads'])
    t0 = time.time()
    env = {k: str(v) for k, v in (unit.get('env') or {}).items()}
    with mock.patch.dict(os.environ, env):
        runner = build_runner(cfg)
        recorder = ValMetricsRecorder()
        runner.register_hook(recorder)
        runner.train()
    seconds = time.time() - t0
    where = f"variant {unit['label']} seed {unit['seed']} ({unit['config']})"
    if not recorder.records:
        raise RuntimeError(
            f'{where}: no validation ran; the config needs a val_dataloader, '
            'val_evaluator and a val_interval that the schedule reaches '
            '(e.g. --cfg-options train_cfg.val_interval=<max_iters>)')
    last = recorder.records[-1]
    pick_metrics(last['metrics'], unit['metrics'], where)
    return dict(
        label=unit['label'], seed=unit['seed'], config=unit['config'],
        config_sha256=unit.get('config_sha256'),
        data_root=unit.get('data_root_key'),
        cfg_options=unit['cfg_options'], env=unit.get('env') or {},
        metrics=last['metrics'],
        iter=last['iter'], epoch=last['epoch'],
        validations=recorder.records,
        params=count_params(runner.model, unit['count_params']),
        seconds=seconds)


def run_and_save(unit: dict) -> dict:
    """:func:`run_unit`, its result also written atomically to
    ``unit['result']`` (by a worker and in this process alike)."""
    out = run_unit(unit)
    atomic_write(json.dumps(out, indent=1), unit['result'])
    return out


def _unit_main(path: str) -> None:
    """``--unit FILE``: run the unit of the JSON ``FILE``."""
    with open(path) as f:
        unit = json.load(f)
    run_and_save(unit)


def variant_options(args: argparse.Namespace, label: str) -> Dict[str, Any]:
    """The config options of a variant: the common ``--cfg-options``, then
    the variant's own (``--variant-cfg-options``, and a fitted width), as
    a worker reads them back (:func:`_json_round_trip`)."""
    return dict(_json_round_trip(args.cfg_options or {}),
                **_json_round_trip(args.variant_opts.get(label, {})))


def _config_at(cfg: Config, path: str) -> dict:
    """The plain sub-config at ``--fit-part`` (``config_at``'s errors)."""
    return copy.deepcopy(dict(config_at(cfg.to_dict(), path, '--fit-part')))


def fit_widths(variants: Mapping[str, str],
               args: argparse.Namespace) -> Dict[str, int]:
    """``--fit-width``: per fitted variant, the largest of ``--fit-widths``
    whose ``--fit-part`` (common and variant options merged, every
    ``--fit-keys`` set to the width) costs no more than the reference
    variant's (``--fit-cap``: GFLOPs and / or parameters of one
    ``--fit-res`` px image; ``bench_task_necks.largest_width``). The
    width is added to the variant's options (every ``--fit-keys``).

    Raises:
        ValueError: no width fits (the widths and the budget named).
    """
    if not args.fit_width:
        return {}
    ref = args.fit_ref or list(variants)[0]

    def config(label: str) -> Config:
        cfg = Config.fromfile(variants[label])
        cfg.merge_from_dict(variant_options(args, label))
        return cfg

    def at_width(cfg: Config, width: int) -> dict:
        cfg = copy.deepcopy(cfg)
        cfg.merge_from_dict({k: width for k in args.fit_keys})
        return _config_at(cfg, args.fit_part)

    ref_cost = config_cost(
        _config_at(config(ref), args.fit_part), args.fit_res,
        scope=args.fit_scope)
    budget = {k: ref_cost[k] for k in args.fit_cap}
    out = {}
    for label in args.fit_width:
        base = config(label)  # read once, copied per tried width
        width = largest_width(
            lambda w, base=base: at_width(base, w),
            args.fit_widths, budget, args.fit_res, scope=args.fit_scope)
        args.variant_opts.setdefault(label, {}).update(
            {k: width for k in args.fit_keys})
        out[label] = width
        print(f'  [{label}] width {width}: the largest of '
              f'{sorted(args.fit_widths, reverse=True)} within {ref}\'s '
              f'{budget} at {args.fit_res} px', flush=True)
    return out


def config_sha256(path: str, cfg_options: Optional[dict] = None) -> str:
    """SHA-256 of the config file ``path`` as MMEngine reads it (its
    ``_base_`` files merged, ``cfg_options`` applied) and of the YAML files
    it names (a genotype), by content
    (:func:`~mmfusenas.utils.cache_keys.portable_sha256`): the same digest
    for the same config in another checkout, another after any change of
    its content or of a genotype it reads."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    plain = cfg.to_dict()
    return portable_sha256(dict(plain, named_files=named_files(
        plain, suffixes=('.yaml', '.yml'))))


def data_root_key(data_root: Optional[str]) -> Optional[str]:
    """``--data-root`` as a unit records it: None, the folder from the
    repository root on (``<repository>/data/x``) where it lies inside the
    checkout, else its absolute path."""
    if data_root is None:
        return None
    path = osp.abspath(data_root)
    if path == ROOT or path.startswith(ROOT + osp.sep):
        return '<repository>' + path[len(ROOT):]
    return path


def plan_units(variants: Mapping[str, str], args: argparse.Namespace,
               work_dir: str) -> List[dict]:
    """One unit per (variant, seed), variants outer, seeds inner."""
    data_root = None if args.data_root is None else osp.abspath(
        args.data_root)
    units = []
    for label, config in variants.items():
        opts = variant_options(args, label)
        digest = config_sha256(config, opts)
        for seed in args.seeds:
            work = seed_dir(osp.join(work_dir, label), seed)
            units.append(dict(
                id=f'{label}_seed{seed}', label=label, seed=seed,
                config=config, config_sha256=digest, cfg_options=opts,
                env=dict(args.variant_env.get(label, {})),
                data_root=data_root, data_root_key=data_root_key(data_root),
                work_dir=work, result=osp.join(work, 'result.json'),
                log=osp.join(work, 'unit.log'), metrics=list(args.metrics),
                count_params=args.count_params, threads=args.threads))
    return units


def _config_key(path: str) -> str:
    """A config file as ``--reuse`` compares it: its path from the last
    ``configs/`` folder on (the same config of another checkout of the
    project, e.g. a worktree, counts as the same), else its absolute
    path."""
    path = osp.abspath(path)
    head, sep, tail = path.rpartition(osp.sep + 'configs' + osp.sep)
    return 'configs' + osp.sep + tail if sep else path


def reusable_result(unit: dict) -> Optional[dict]:
    """``--reuse``: the earlier result of ``unit`` (its ``result.json``),
    or None where there is none.

    Raises:
        ValueError: the result records another config file or content
            (``config_sha256``), another ``--data-root``, other options,
            environment or seed than the unit (both named, and the keys
            that differ).
    """
    path = unit['result']
    if not osp.exists(path):
        return None
    with open(path) as f:
        result = json.load(f)
    mine = dict(config=_config_key(unit['config']),
                config_sha256=unit['config_sha256'],
                data_root=unit.get('data_root_key'),
                cfg_options=unit['cfg_options'] or {},
                env=unit.get('env') or {}, seed=unit['seed'])
    theirs = dict(config=_config_key(result.get('config') or ''),
                  config_sha256=result.get('config_sha256'),
                  data_root=result.get('data_root'),
                  cfg_options=result.get('cfg_options') or {},
                  env=result.get('env') or {}, seed=result.get('seed'))
    if mine != theirs:
        keys = [k for k in mine if mine[k] != theirs[k]]
        raise ValueError(
            f"--reuse: {path} records {theirs}, but variant "
            f"{unit['label']} seed {unit['seed']} is {mine} (they differ "
            f'in {keys}); remove that folder or choose another --work-dir')
    return result


def _start_unit(unit: dict):
    return launch_unit_worker(__file__, unit, unit['work_dir'], unit['log'],
                              cwd=os.getcwd(), threads=unit['threads'])


def run_units(units: List[dict], jobs: int) -> Dict[str, dict]:
    """Run the units (``jobs`` worker processes, or in this process for
    ``jobs == 1``); return ``{unit id: result}``.

    Raises:
        RuntimeError: a worker failed (its exit code and the end of its
            log); an inline unit's own exception propagates.
    """
    def done(unit, result, took):
        note = ', '.join(f'{m} {result["metrics"][m]:.4f}'
                         for m in unit.data['metrics'])
        print(f'  [{unit.id}] done in {took.seconds:.0f} s ({took.done}/'
              f'{took.total} units, {took.elapsed:.0f} s): {note}',
              flush=True)

    return run_process_units(
        [ProcessUnit(u['id'], u['log'], u['result'], data=u,
                     name=f"variant {u['label']} seed {u['seed']}")
         for u in units], jobs,
        start=lambda u: _start_unit(u.data),
        inline=lambda u: run_and_save(u.data), on_done=done)


# --------------------------------------------------------------- the table
def aggregate(results: Mapping[str, Mapping[int, dict]],
              labels: Sequence[str], seeds: Sequence[int],
              metrics: Sequence[str]) -> Dict[str, dict]:
    """Per variant and metric: the per-seed values, mean, population std
    and (not for the first variant) the per-seed differences to the first
    variant with their mean and population std.

    Args:
        results: ``{label: {seed: unit result}}`` (a unit result has
            ``metrics``, ``params``, ``config``, ``cfg_options``,
            ``seconds``).

    Raises:
        KeyError: a requested metric missing from a unit's result.
    """
    out: Dict[str, dict] = {}
    ref = labels[0]
    for label in labels:
        runs = [results[label][s] for s in seeds]
        row: Dict[str, Any] = {}
        for m in metrics:
            vals = [float(pick_metrics(r['metrics'], [m],
                                       f'variant {label} seed {s}')[m])
                    for r, s in zip(runs, seeds)]
            row[m] = dict(per_seed=vals, mean=float(np.mean(vals)),
                          std=float(np.std(vals)))
            if label != ref:
                base = out[ref][m]['per_seed']
                diff = [v - b for v, b in zip(vals, base)]
                row[m]['diff'] = dict(per_seed=diff,
                                      mean=float(np.mean(diff)),
                                      std=float(np.std(diff)))
        row.update(params=runs[0]['params'], config=runs[0]['config'],
                   cfg_options=runs[0]['cfg_options'],
                   unit_seconds=[r['seconds'] for r in runs])
        out[label] = row
    return out


def rank_variants(summary: Mapping[str, dict], group: Sequence[str],
                  metrics: Sequence[str], lower_better: bool = False
                  ) -> Dict[str, dict]:
    """``--rank-among``: per metric, the group's median of the variants'
    means and every other variant's rank percentile among the group's
    means (:func:`~mmfusenas.benchmark.control_stats.rank_pct`, ties half)."""
    sign = 1.0 if lower_better else -1.0  # rank_pct: lower is better
    out = {}
    for m in metrics:
        means = [summary[g][m]['mean'] for g in group]
        out[m] = dict(
            group=list(group), group_median=float(np.median(means)),
            rank_pct={label: rank_pct(sign * row[m]['mean'],
                                      [sign * v for v in means])
                      for label, row in summary.items()
                      if label not in group})
    return out


def _params_text(params: Mapping[str, Optional[int]]) -> str:
    return ', '.join(f'{k} {"-" if v is None else f"{v / 1e6:.3f}M"}'
                     for k, v in params.items())


def format_table(summary: Mapping[str, dict], labels: Sequence[str],
                 seeds: Sequence[int], metrics: Sequence[str]) -> str:
    """The table of :func:`aggregate`: one row per variant."""
    head = ['variant', 'params']
    for m in metrics:
        head += [f'{m} s{s}' for s in seeds]
        head += [f'{m} mean ± std', f'{m} Δ vs {labels[0]}']
    rows = [head]
    for label in labels:
        row = summary[label]
        cells = [label, _params_text(row['params'])]
        for m in metrics:
            r = row[m]
            cells += [f'{v:.4f}' for v in r['per_seed']]
            cells.append(f"{r['mean']:.4f} ± {r['std']:.4f}")
            d = r.get('diff')
            cells.append('-' if d is None else
                         f"{d['mean']:+.4f} ± {d['std']:.4f}")
        rows.append(cells)
    return AsciiTable(rows).table


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.unit:  # a worker process
        _unit_main(args.unit)
        return {}
    variants = check_args(args)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    if args.results_json:
        check_record_path(args.results_json)
    fitted: Dict[str, int] = {}
    if args.from_runs:
        results = args.runs
        print(f'{len(variants)} variants x {len(args.seeds)} seeds read from '
              f'{args.from_runs} (nothing trained)', flush=True)
    else:
        work_dir = osp.abspath(args.work_dir)
        fitted = fit_widths(variants, args)
        units = plan_units(variants, args, work_dir)
        print(f'{len(units)} runs ({len(variants)} variants x '
              f'{len(args.seeds)} seeds) on {args.jobs} process(es), work '
              f'dir {work_dir}', flush=True)
        done: Dict[str, dict] = {}
        for u in units if args.reuse else ():
            result = reusable_result(u)
            if result is not None:
                done[u['id']] = result
                print(f"  [{u['id']}] reused {u['result']}", flush=True)
        done.update(run_units([u for u in units if u['id'] not in done],
                              args.jobs))
        results = {}
        for u in units:
            results.setdefault(u['label'], {})[u['seed']] = done[u['id']]
    labels = list(variants)
    summary = aggregate(results, labels, args.seeds, args.metrics)
    print(f'\nwhole configs over seeds {args.seeds} (last validation; '
          'mean ± population std; Δ: mean of the per-seed differences to '
          f'{labels[0]} ± their population std)')
    print(format_table(summary, labels, args.seeds, args.metrics))
    out: Dict[str, Any] = dict(summary)
    for label, width in fitted.items():
        out[label]['fitted_width'] = width
    out['signal_vs_noise'] = {
        m: signal_vs_noise({label: summary[label][m]['per_seed']
                            for label in labels}) for m in args.metrics}
    for m, sig in out['signal_vs_noise'].items():
        if sig:
            print(f'{m}: between-variant s.d. {sig["between_sd"]:.4f} '
                  f'(estimated, true), seed x variant noise '
                  f'{sig["interaction_sd"]:.4f}, reliability of the seed '
                  f'mean {sig["reliability"]:.2f}')
    if args.rank_among:
        out['ranks'] = rank_variants(summary, args.rank_among, args.metrics,
                                     args.lower_better)
        for m, r in out['ranks'].items():
            print(f'{m}: median of {", ".join(r["group"])}: '
                  f'{r["group_median"]:.4f}; rank % among them: ' + ', '.join(
                      f'{k} {v:.1f}' for k, v in r['rank_pct'].items()))
    out.update(seeds=list(args.seeds), metrics=list(args.metrics),
               seconds=time.time() - t0)
    text = json.dumps(out)
    if args.out:
        atomic_write(json.dumps(out, indent=1), args.out)
    if args.results_json:
        names = dict(item.split('=', 1) for item in args.labels or ())
        argv_text = shlex.join(sys.argv[1:] if argv is None else argv)
        table = results_record(out, labels, names, 'whole configs over seeds')
        first = next(iter(next(iter(table.values())).values()))
        note = dict(note=f'Tabulated from `{args.from_runs}`: '
                    f'{args.runs_source}') if args.from_runs else {}
        write_results_record(
            args.results_json,
            f'python benchmarks/bench_config_seeds.py {argv_text}', ROOT,
            table, threads=args.threads, count='seeds', **note, RESULT=out,
            metrics=[k for k in first if k not in ('seeds', 'params')])
    print('RESULT ' + text)
    return out


if __name__ == '__main__':
    main()
