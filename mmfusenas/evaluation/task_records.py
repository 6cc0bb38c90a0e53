"""Unit records of the task-driven protocol: one small JSON per (input,
seed) that outlives the work dir it was trained in, and the tables and
goals built from the records alone.

A records folder holds ``<input>/seed_<S>.json`` for one protocol (one
detector config, label set, input size, batch and budget), each with the
unit's ``options`` (the hashes of the config, initial weights, training
labels and data, and of the input's weights), the ``protocol`` it was run
under, its ``train`` summary (iterations, wall and CPU seconds, device) and
its ``tests`` (scores per test set), plus the ``command`` and ``commit``
that made it. ``tools/analysis_tools/task_protocol.py --records DIR``
writes them and takes a unit from its record instead of training it when
the unit's current options equal the recorded ones.
"""
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmfusenas.utils.fileio import atomic_write, is_finite_number, read_json

#: the keys every unit record holds
RECORD_KEYS = ('options', 'protocol', 'train', 'tests', 'command', 'commit')
#: the scores every recorded test holds
SCORE_KEYS = ('mAP', 'mAP50', 'AP', 'AP50')
#: a row's device for a unit that records none
NO_DEVICE = 'not recorded'
_SEED_FILE = re.compile(r'^seed_(\d+)\.json$')
#: the options the seeds of one row may differ in: the seed and its initial
#: detector weights (the config hash leaves the seed and initial weights out)
PER_SEED_OPTIONS = ('seed', 'init_sha256')
#: the protocol keys the folders of one budget curve may differ in: the
#: budget, and the config hash, which hashes the config with its schedule
#: (``max_iters`` and the learning-rate schedule's end) in it: an edited
#: detector config under the same path is not told apart here
BUDGET_KEYS = ('max_iters', 'config_sha256')


def record_path(folder: str, name: str, seed: int) -> str:
    """The record of input ``name`` and ``seed`` in ``folder``."""
    return osp.join(folder, name, f'seed_{seed}.json')


def seed_files(folder: str) -> List[Tuple[int, str]]:
    """``(seed, path)`` of every ``seed_<n>.json`` in ``folder`` (an input's
    records), by seed; none when ``folder`` does not exist."""
    names = sorted(os.listdir(folder)) if osp.isdir(folder) else []
    found = [(_SEED_FILE.match(n), n) for n in names]
    return sorted((int(m.group(1)), osp.join(folder, n)) for m, n in found
                  if m)


def read_record(path: str) -> Optional[dict]:
    """The unit record at ``path``; None when there is none.

    Raises:
        ValueError: the file is damaged (:func:`record_problem`: not JSON,
            a key of :data:`RECORD_KEYS` missing, a test without its
            scores, a file name other than ``seed_<its seed>.json``, a
            method other than its folder's name, a value that is no finite
            number, a NaN or infinity anywhere), named.
    """
    if not osp.isfile(path):
        return None
    record = read_json(path)
    problem = record_problem(record, path)
    if problem:
        raise ValueError(f'{path} is a damaged unit record ({problem}); '
                         'restore it from git or remove it to run the unit '
                         'again')
    return record


def record_problem(record, path: str) -> Optional[str]:
    """What is wrong with the unit record ``record`` of the file ``path``,
    or None: the checks of :func:`read_record`, which :func:`write_record`
    applies before it writes."""
    if not isinstance(record, dict):
        return 'not a JSON object'
    missing = [k for k in RECORD_KEYS if k not in record]
    tests = record.get('tests')
    if missing:
        return f'missing {missing}'
    options = record['options']
    if not isinstance(options, dict) or not isinstance(
            record['train'], dict) or not isinstance(tests, dict):
        return 'options, train and tests must be objects'
    if any(not isinstance(t, dict) or any(k not in t for k in SCORE_KEYS)
           for t in tests.values()):
        return f'a test lacks one of {list(SCORE_KEYS)}'
    seed = options.get('seed')
    if not isinstance(seed, int) or isinstance(seed, bool):
        return f'options.seed must be an integer, not {seed!r}'
    if osp.basename(path) != f'seed_{seed}.json':
        return (f'it records seed {seed}, its file name is not '
                f'seed_{seed}.json')
    folder = osp.basename(osp.dirname(osp.abspath(path)))
    if options.get('method') != folder:
        return (f'it records method {options.get("method")!r}, its folder '
                f'is {folder!r}')
    problem = _bad_values(record['train'], tests)
    if problem is None:
        try:
            json.dumps(record, allow_nan=False)
        except ValueError:  # a NaN or infinity the checks do not look at
            problem = 'a value is NaN or infinite, which strict JSON ' \
                'cannot hold'
    return problem


def _bad_values(train: dict, tests: dict) -> Optional[str]:
    """What is wrong with a record's values, or None: the scores must be
    finite numbers (a class's AP may be None), as must the values of a
    test's ``coco`` metrics and of ``train.final_losses`` where recorded
    (the code writes floats there, never None); the train times and the
    peak memory finite numbers or None."""
    def score(value) -> bool:
        return value is None or is_finite_number(value)

    def finite_values(value) -> bool:
        return isinstance(value, dict) and all(
            map(is_finite_number, value.values()))

    for name, test in tests.items():
        bad = [k for k in ('mAP', 'mAP50') if not is_finite_number(test[k])]
        bad += [k for k in ('AP', 'AP50') if not isinstance(test[k], dict)
                or not all(map(score, test[k].values()))]
        if 'coco' in test and not finite_values(test['coco']):
            bad.append('coco')
        if bad:
            return f'tests.{name}: {bad} must be finite numbers'
    if 'final_losses' in train and not finite_values(train['final_losses']):
        return "train: ['final_losses'] must be finite numbers"
    bad = [k for k in ('seconds', 'cpu_seconds', 's_per_iter',
                       'max_memory_mb') if not score(train.get(k))]
    return f'train: {bad} must be finite numbers or null' if bad else None


def differing(theirs: dict, ours: dict) -> List[str]:
    """The keys whose values differ between two dicts, a key missing on
    one side included."""
    return sorted(k for k in set(theirs) | set(ours)
                  if (k in theirs) != (k in ours)
                  or theirs.get(k) != ours.get(k))


def matching_record(path: str, options: dict, what: str) -> Optional[dict]:
    """The record at ``path`` if it was made with ``options``; None (and a
    line saying which inputs changed) when it was made with others, or
    when there is none.

    Raises:
        ValueError: the record is damaged (:func:`read_record`).
    """
    record = read_record(path)
    if record is None:
        return None
    keys = differing(record['options'], options)
    if keys:
        print(f'{what}: the record {path} was made from other inputs ('
              + ', '.join(f'{k}: {_short(record["options"].get(k))} there, '
                          f'{_short(options.get(k))} now' for k in keys)
              + '); running it again', flush=True)
        return None
    return record


def _short(value) -> str:
    """A value shortened for a message (a hash to its first 12 digits)."""
    text = value if isinstance(value, str) else json.dumps(
        value, sort_keys=True, default=str)
    return text[:12] + '…' if len(text) > 16 else text


def write_record(path: str, run: dict, protocol: dict, command: str,
                 commit: str) -> bool:
    """Write the record of a finished unit (``run``: its ``result.json``)
    atomically as strict JSON, unless the one there holds the same scores
    and inputs; returns whether it wrote.

    Raises:
        ValueError: the record would not read back (the checks of
            :func:`read_record`), named; nothing is written.
    """
    record = dict(options=run['options'], protocol=protocol,
                  train=run['train'], tests=run['tests'], command=command,
                  commit=commit)
    problem = record_problem(record, path)
    if problem:
        raise ValueError(f'{path}: refusing to write a unit record that '
                         f'would not read back ({problem}); nothing was '
                         'written')
    old = read_record(path) if osp.isfile(path) else None
    if old is not None and all(old[k] == record[k] for k in
                               ('options', 'protocol', 'train', 'tests')):
        return False
    os.makedirs(osp.dirname(path), exist_ok=True)
    atomic_write(json.dumps(record, indent=1, allow_nan=False) + '\n', path)
    return True


def load_records(folder: str) -> Dict[str, Dict[int, dict]]:
    """Every unit record of ``folder``: ``{input: {seed: record}}``.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        ValueError: a damaged record, or records of different protocols
            (the inputs and differing keys named).
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'records folder {folder} not found')
    records: Dict[str, Dict[int, dict]] = {}
    first: Optional[Tuple[str, dict]] = None
    for name in sorted(os.listdir(folder)):
        sub = osp.join(folder, name)
        if not osp.isdir(sub):
            continue
        for seed, path in seed_files(sub):
            record = read_record(path)
            if first is None:
                first = (path, record['protocol'])
            elif record['protocol'] != first[1]:
                raise ValueError(
                    f'{path} records another protocol than {first[0]} '
                    f'(differing: {differing(first[1], record["protocol"])})'
                    f'; one records folder holds one protocol')
            records.setdefault(name, {})[seed] = record
    return records


def _stats(values: Sequence[Optional[float]]
           ) -> Tuple[Optional[float], Optional[float]]:
    """Mean and population std of the values that are not None."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None
    return float(np.mean(vals)), float(np.std(vals))


def aggregate(per_seed: Dict[int, dict], classes: Sequence[str]) -> dict:
    """A table row: mean and population std over the seeds of mAP, mAP50
    and the per-class AP / AP50, and the per-seed values."""
    seeds = sorted(per_seed)
    row = dict()
    for key in ('mAP', 'mAP50'):
        row[key], row[f'{key}_std'] = _stats(
            [per_seed[s][key] for s in seeds])
    for key in ('AP', 'AP50'):
        row[key], row[f'{key}_std'] = {}, {}
        for name in classes:
            row[key][name], row[f'{key}_std'][name] = _stats(
                [per_seed[s][key][name] for s in seeds])
    row['seeds'] = seeds
    row['per_seed'] = {str(s): per_seed[s] for s in seeds}
    return row


def records_table(records: Dict[str, Dict[int, dict]],
                  set_name: str = 'test') -> Dict[str, dict]:
    """The table of one test set from unit records alone: per input the
    row of :func:`aggregate` plus ``cpu_hours`` (the training CPU time of
    its seeds; None when a unit records none), ``s_per_iter`` (the mean
    training seconds per iteration of its seeds; None when a unit records
    none), ``max_memory_mb`` (the largest peak CUDA memory its units
    record; None when none does), ``devices`` (:data:`NO_DEVICE` for a
    unit without one) and ``iters``.
    Inputs without a test of ``set_name`` are left out.

    Raises:
        ValueError: the seeds of a row score other classes, or were made
            from other inputs (:func:`_same_inputs`), named.
    """
    table = {}
    for name, seeds in records.items():
        per_seed = {s: r['tests'][set_name] for s, r in seeds.items()
                    if set_name in r['tests']}
        if not per_seed:
            continue
        (first, classes), *others = [(s, list(t['AP50']))
                                     for s, t in per_seed.items()]
        for seed, theirs in others:
            if theirs != classes:
                raise ValueError(
                    f'row {name!r}: seed {seed} scores the classes {theirs}, '
                    f'seed {first} {classes}; the records of one row score '
                    'the same classes')
        _same_inputs(name, {s: seeds[s] for s in per_seed}, set_name)
        row = aggregate(per_seed, classes)
        trains = [seeds[s]['train'] for s in per_seed]
        cpu = [t.get('cpu_seconds') for t in trains]
        step = [t.get('s_per_iter') for t in trains]
        memory = [t['max_memory_mb'] for t in trains
                  if t.get('max_memory_mb') is not None]
        row.update(
            cpu_hours=None if None in cpu else round(sum(cpu) / 3600, 3),
            s_per_iter=None if None in step else round(
                float(np.mean(step)), 4),
            max_memory_mb=max(memory) if memory else None,
            devices=sorted({t.get('device') or NO_DEVICE for t in trains}),
            iters=sorted({t.get('iters') for t in trains}))
        row['per_seed'] = {k: {x: v[x] for x in SCORE_KEYS}
                           for k, v in row['per_seed'].items()}
        table[name] = row
    return table


def _same_inputs(name: str, seeds: Dict[int, dict], set_name: str) -> None:
    """Refuse to average the seeds of row ``name`` (``{seed: record}``)
    unless they were made from the same inputs: their ``options`` equal
    but for :data:`PER_SEED_OPTIONS`, and their test ``set_name`` on the
    same images and labels (``tests.<set>.data_sha256``).

    Raises:
        ValueError: naming the row, the seeds and the differing keys.
    """
    first, *others = sorted(seeds)
    ref = seeds[first]
    problems = []
    for seed in others:
        record = seeds[seed]
        keys = [f'options.{k}' for k in differing(
            ref['options'], record['options']) if k not in PER_SEED_OPTIONS]
        if 'data_sha256' in differing(ref['tests'][set_name],
                                      record['tests'][set_name]):
            keys.append(f'tests.{set_name}.data_sha256')
        if keys:
            problems.append(f'seed {seed} differs from seed {first} in '
                            f'{keys}')
    if problems:
        raise ValueError(
            f'row {name!r}: ' + '; '.join(problems) + '; the seeds of one '
            f'row are made from the same inputs (all options but '
            f'{list(PER_SEED_OPTIONS)}, the same test data)')


def _gap(table: Dict[str, dict], name: str,
         against: str) -> Tuple[dict, dict, dict]:
    """Rows ``name`` and ``against`` and their mAP50 ``difference``, the
    larger of their seed ``spread`` s (population std), the fewer
    ``seeds`` and, over the seeds both rows have (one seed: the same
    initial detector and data order), the seed-by-seed differences
    (``paired``: how many seeds, in how many ``name`` is ahead, their
    mean)."""
    ours, theirs = table[name], table[against]
    a, b = ours.get('per_seed') or {}, theirs.get('per_seed') or {}
    diffs = [a[s]['mAP50'] - b[s]['mAP50'] for s in sorted(set(a) & set(b))]
    return ours, theirs, dict(
        difference=ours['mAP50'] - theirs['mAP50'],
        spread=max(ours['mAP50_std'] or 0.0, theirs['mAP50_std'] or 0.0),
        seeds=min(len(ours['seeds']), len(theirs['seeds'])),
        paired=dict(seeds=len(diffs), ahead=sum(d > 0 for d in diffs),
                    mean=sum(diffs) / len(diffs) if diffs else None))


def compare(table: Dict[str, dict], name: str, against: str,
            min_seeds: int = 2) -> dict:
    """Whether row ``name`` beats row ``against`` on mAP50: its mean ahead
    by more than the larger of the two seed spreads (population std), over
    at least ``min_seeds`` seeds each."""
    ours, theirs, gap = _gap(table, name, against)
    return dict(
        criterion=f'{name} mAP50 exceeds {against}\'s by more than the '
        f'larger seed spread (population std), over >= {min_seeds} seeds',
        values=dict(name=name, mAP50=ours['mAP50'], sd=ours['mAP50_std'],
                    against=against, against_mAP50=theirs['mAP50'],
                    against_sd=theirs['mAP50_std'], **gap),
        reached=bool(gap['seeds'] >= min_seeds
                     and gap['difference'] > gap['spread']))


def within_spread(table: Dict[str, dict], name: str, against: str,
                  min_seeds: int = 2) -> dict:
    """Whether row ``name`` (e.g. the joint model under mixed precision)
    scores as row ``against`` (the same model in float32): its mAP50 mean
    within the larger of the two seed spreads of the other's, over at least
    ``min_seeds`` seeds each; with the ratios of their seconds per
    iteration and peak memory (None where a row records none)."""
    ours, theirs, gap = _gap(table, name, against)

    def ratio(key):
        a, b = ours.get(key), theirs.get(key)
        return None if a is None or not b else round(a / b, 3)

    return dict(
        criterion=f'{name} mAP50 within the larger seed spread (population '
        f'std) of {against}\'s, over >= {min_seeds} seeds',
        values=dict(name=name, mAP50=ours['mAP50'], against=against,
                    against_mAP50=theirs['mAP50'], **gap,
                    s_per_iter_ratio=ratio('s_per_iter'),
                    memory_ratio=ratio('max_memory_mb')),
        reached=bool(gap['seeds'] >= min_seeds
                     and abs(gap['difference']) <= gap['spread']))


def budget_curve(tables: Dict[str, Tuple[dict, Dict[str, dict]]],
                 a: str = 'ir', b: str = 'vi',
                 enough: float = 0.20) -> List[dict]:
    """mAP50 of inputs ``a`` and ``b`` per budget, smallest first.

    Args:
        tables: ``{folder: (protocol, table)}`` of records folders that
            differ in their budget only (:data:`BUDGET_KEYS`).
        a, b: the two inputs compared.
        enough: the mAP50 at which the better input counts as trained.

    Returns:
        One point per folder holding both inputs: ``folder``, ``max_iters``,
        ``img_scale``, each input's ``mAP50`` / ``sd`` / ``seeds``, the
        ``difference`` b - a, and ``out_of_noise``: the difference exceeds
        twice the larger seed spread (over >= 2 seeds each) or the better
        input reaches ``enough``.

    Raises:
        ValueError: two folders of the curve differ in more than their
            budget (the folders and the keys named; the config hash is not
            compared, :data:`BUDGET_KEYS`).
    """
    first = None
    for folder, (protocol, table) in sorted(tables.items()):
        if a not in table or b not in table:
            continue
        if first is None:
            first = (folder, protocol)
            continue
        keys = [k for k in differing(first[1], protocol)
                if k not in BUDGET_KEYS]
        if keys:
            raise ValueError(
                f'budget curve: the records folders {first[0]} and {folder} '
                f'differ in more than their budget (differing: {keys}); a '
                'curve compares one protocol at several budgets, so give '
                'each protocol its own root')
    points = []
    for folder, (protocol, table) in tables.items():
        if a not in table or b not in table:
            continue
        ra, rb = table[a], table[b]
        diff = rb['mAP50'] - ra['mAP50']
        spread = max(ra['mAP50_std'] or 0.0, rb['mAP50_std'] or 0.0)
        seeds = min(len(ra['seeds']), len(rb['seeds']))
        points.append(dict(
            folder=folder, max_iters=protocol.get('max_iters'),
            img_scale=protocol.get('img_scale'),
            **{f'{k}_{x}': r[y] for k, r in ((a, ra), (b, rb))
               for x, y in (('mAP50', 'mAP50'), ('sd', 'mAP50_std'))},
            seeds=seeds, difference=diff,
            out_of_noise=bool(seeds >= 2 and (
                abs(diff) > 2 * spread
                or max(ra['mAP50'], rb['mAP50']) >= enough))))
    return sorted(points, key=lambda p: (p['max_iters'] or 0, p['folder']))
