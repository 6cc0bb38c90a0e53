"""Train (or search) with a config: ``python tools/train.py CONFIG``.

MMEngine style, as in mmdet / mmseg. ``--max-iters N`` / ``--max-epochs N``
set the length of training and rescale every setting counted in its
iterations (:func:`~mmfusenas.utils.schedule.rescale_schedule`); values given
with ``--cfg-options`` win. ``--pairs IR_DIR VI_DIR`` trains a fusion config
on two folders of pairs matched by stem. A run that fails before its first
iteration leaves no log folder behind (nor the work dir, when it made it).
The parser imports neither torch nor mmdet nor the registries (``--help``
and usage errors answer at once); they are imported after it.
"""
import argparse
import logging
import os
import os.path as osp
import shutil
import sys
from typing import Any, List, Optional, Sequence, Tuple

from mmengine.config import Config

from mmfusenas.utils.config import (add_runner_args, load_runner_config,
                                    setup_distributed)
from mmfusenas.utils.config_tree import (config_items, config_name,
                                         runner_part, type_name, walk_path)
from mmfusenas.utils.data_folders import check_data_folders, run_loaders
from mmfusenas.utils.schedule import (NO_END, is_count, loop_unit,
                                      rescale_schedule, schedule_settings)

# Imported where used, after the arguments are parsed (each pulls torch,
# mmdet or the registries): mmengine.dist, mmengine.runner,
# mmfusenas.datasets, mmfusenas.engine, mmfusenas.utils.checkpoint and
# mmfusenas.utils.workdir_lock.

#: ``--pairs`` holds out one pair in this many (at least one) for validation
PAIRS_VAL_EVERY = 10


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a MMFuseNAS model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; without a path, from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        '--max-iters', type=int,
        help='train for this many iterations, rescaling the schedule '
        '(schedulers, warm-ups, intervals) with it; iteration-based loops')
    length.add_argument(
        '--max-epochs', type=int,
        help='as --max-iters, for epoch-based train loops')
    parser.add_argument(
        '--pairs', nargs=2, metavar=('IR_DIR', 'VI_DIR'),
        help='train a fusion config on two folders of image pairs matched '
        'by stem (first and second modality); one pair in ten (at least '
        'one) is held out for validation; the work dir is '
        'work_dirs/<config name>_pairs unless --work-dir is given')
    add_runner_args(parser)
    return parser.parse_args(argv)


def _rescale(cfg: Config, args: argparse.Namespace) -> List[str]:
    """Apply ``--max-iters`` / ``--max-epochs`` (settings given with
    ``--cfg-options`` keep their value); returns the log lines."""
    key = 'max_iters' if args.max_iters is not None else 'max_epochs'
    new, option = getattr(args, key), f'--{key.replace("_", "-")}'
    if new is None:
        return []
    options = dict(args.cfg_options or {})
    if f'train_cfg.{key}' in options:
        raise ValueError(f'{option} and --cfg-options train_cfg.{key} both '
                         'set the length of training; give one')
    changes = rescale_schedule(cfg, **{key: new})
    if not changes:
        return [f'{option} {new}: the config already trains this long; '
                'nothing rescaled']
    given = {k: v for k, v in options.items() if any(
        p == k or p.startswith(f'{k}.') for p, _, _ in changes)}
    cfg.merge_from_dict(given)  # the explicit values win
    kept = [p for p, _, _ in changes
            if any(p == k or p.startswith(f'{k}.') for k in given)]
    changes = [c for c in changes if c[0] not in kept]
    lines = [format_schedule_changes(changes)] if changes else []
    if kept:
        lines.append(f'{option}: kept as given with --cfg-options: '
                     f'{", ".join(kept)}')
    return lines


def format_schedule_changes(changes: List[Tuple[str, Any, Any]]) -> str:
    """The table of :func:`rescale_schedule`'s changes ('' for none)."""
    if not changes:
        return ''
    rows = [('field', 'before', 'after')] + [
        (path, str(old), str(new)) for path, old, new in changes]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    count = f'{len(changes)} change{"s" if len(changes) > 1 else ""}'
    return '\n'.join([f'schedule rescaled by {changes[0][0]} {changes[0][1]}'
                      f' → {changes[0][2]} ({count}):'] + [
        f'  {a:<{widths[0]}}  {b:<{widths[1]}}  {c}' for a, b, c in rows])


def schedule_warnings(cfg: Config) -> List[str]:
    """What a run of ``cfg`` never reaches, to log before training: the
    first ``start`` of each dict at or after the end of training, and
    parameter schedulers running past it (``end=INF`` excepted)."""
    train_cfg = cfg.get('train_cfg')
    unit = loop_unit(train_cfg)
    length = train_cfg[f'max_{unit}s'] if unit else None
    if not is_count(length):
        return []
    noun = 'iterations' if unit == 'iter' else 'epochs'
    end = f'train_cfg.max_{unit}s={length}'
    tip = f'tools/train.py --max-{unit}s N'
    settings = [s for s in schedule_settings(cfg) if s['unit'] == unit]
    values = {s['path']: s['value'] for s in settings}
    first: dict = {}  # the first start of each dict the run does not reach
    for s in settings:
        if s['kind'] == 'start' and s['value'] >= length and (
                s['group'] not in first
                or s['value'] < first[s['group']]['value']):
            first[s['group']] = s
    out = [f'{s["owner"]} ({s["group"]}): {s["path"][len(s["group"]) + 1:]}'
           f'={s["value"]} is not before the end of training ({end}), so '
           f'the run never gets there. Train for more than {s["value"]} '
           f'{noun}, or shorten the whole schedule with {tip}, which '
           'rescales it with it.' for s in first.values()]
    beyond = []
    for s in settings:
        leaf = [p for p in s['parts'] if not p.isdigit()][-1]
        begin = values.get(f'{s["group"]}.begin', 0)
        if s['path'].startswith('param_scheduler') and s['value'] < NO_END \
                and (leaf == 'begin' and s['value'] >= length
                     or leaf in ('end', 'milestones') and s['value'] > length
                     or leaf == 'T_max' and begin + s['value'] > length):
            beyond.append(f'{s["path"]}={s["value"]}')
    if beyond:
        out.append(
            f'the parameter schedule runs past the end of training ({end}): '
            f'{", ".join(beyond)}; the schedule is cut where training stops '
            f'(e.g. the learning rate is not annealed). {tip} sets the '
            'length and rescales the schedule with it.')
    return out


#: weight files a config may name, by key: where they come from, and the
#: ``--cfg-options`` that do without them
_WEIGHT_FILES = {
    'feature_weights': (
        "torchvision's ImageNet VGG16 state dict, https://download.pytorch."
        'org/models/vgg16-397923af.pth', '{parent}.measure=gradient {path}='
        'None (the weight-free gradient measure of U2Fusion)'),
    'checkpoint': ('the pretrained weights of this init_cfg',
                   '{parent}=None (random initialisation)'),
    'pretrained': ('the pretrained weights of this model',
                   '{path}=None (random initialisation)'),
    'load_from': ('a checkpoint of an earlier run', 'load_from=None'),
}


def check_run_files(cfg: Config) -> None:
    """Raise FileNotFoundError before the runner is built when a weight
    file of :data:`_WEIGHT_FILES` is missing (``checkpoint``: of a
    ``Pretrained`` ``init_cfg``), naming where to get it."""
    tree, where, errors = runner_part(cfg), config_name(cfg), []
    for path, key, value in config_items(tree):
        parent = path.rpartition('.')[0]
        if key not in _WEIGHT_FILES or not isinstance(value, str) or \
                not value or '://' in value or osp.isfile(value) or (
                    key == 'checkpoint' and type_name(walk_path(
                        tree, parent.split('.'))[1]) != 'Pretrained'):
            continue
        source, avoid = _WEIGHT_FILES[key]
        errors.append(
            f'{where}: {path} = {value!r} is not a file (from '
            f'{os.getcwd()}). It is {source}. Put it there, point '
            f'{path} at it, or run without it: --cfg-options '
            f'{avoid.format(path=path, parent=parent)}')
    if errors:
        raise FileNotFoundError('\n'.join(errors))


def use_pair_folders(cfg: Config, folders: Sequence[str],
                     img_suffixes: Sequence[str]) -> List[str]:
    """Train and validate ``cfg`` on two folders of image pairs matched by
    stem (``--pairs``), holding one pair in :data:`PAIRS_VAL_EVERY` (at
    least one) out for validation and test; returns the log lines."""
    from mmfusenas.datasets.paired_image_dataset import list_files
    where = cfg.filename or 'the config'
    datasets = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset')
        if type_name(dataset) == 'PairedImageDataset':
            datasets[key] = dataset
        elif key != 'test_dataloader':
            raise ValueError(
                f'--pairs trains fusion configs, whose {key}.dataset is a '
                f'PairedImageDataset; {key}.dataset of {where} is '
                f'{type_name(dataset)}')
    others = [key for key, _ in run_loaders(cfg, 'train')
              if key not in ('train_dataloader', 'val_dataloader')]
    train = datasets['train_dataloader']
    modalities = list(train.get('data_prefix') or {}) or ['ir', 'vi']
    if others or len(modalities) != 2:
        raise ValueError(
            f'--pairs gives the train and validation data of two modalities;'
            f' {where} ' + (f'also reads {", ".join(others)}' if others else
                            f'fuses {modalities}'))
    suffixes = tuple(s.lower() for s in train.get('img_suffixes',
                                                  img_suffixes))
    for folder in folders:
        if not osp.isdir(folder):
            raise FileNotFoundError(f'--pairs: {folder} is not a folder')
    if osp.samefile(*folders):
        raise ValueError(
            f'--pairs: {folders[0]} and {folders[1]} are the same folder '
            f'({osp.realpath(folders[0])}): give the {modalities[0]} folder,'
            f' then the {modalities[1]} one')
    stems = [{osp.splitext(osp.basename(path))[0]
              for path in list_files(folder, suffixes)} for folder in folders]
    for i in (0, 1):
        alone = sorted(stems[i] - stems[1 - i])
        if alone:
            raise ValueError(
                f'--pairs: {len(alone)} image(s) of {folders[i]} have no '
                f'file of the same stem in {folders[1 - i]}: '
                f'{", ".join(alone[:10])}{", ..." * (len(alone) > 10)}.')
    paired, names = sorted(stems[0]), ' and '.join(folders)
    if len(paired) < 2:
        raise ValueError(f'--pairs needs at least 2 pairs (one held out for '
                         f'validation); {names} hold {len(paired)} (images: '
                         f'{", ".join(suffixes)})')
    n, n_val = len(paired), max(1, len(paired) // PAIRS_VAL_EVERY)
    held = [(2 * i + 1) * n // (2 * n_val) for i in range(n_val)]
    kept = [i for i in range(n) if i not in held]
    prefix = dict(zip(modalities, map(osp.abspath, folders)))
    for key, dataset in datasets.items():
        dataset.update(data_root=osp.commonpath(list(prefix.values())),
                       data_prefix=prefix, ann_file='',
                       indices=kept if key == 'train_dataloader' else held)
    shown = ', '.join(paired[i] for i in held[:10])
    lines = [f'--pairs: {n} pairs matched by stem in {names} '
             f'({" / ".join(modalities)}): {len(kept)} train, {n_val} held '
             f'out for validation (one in every {PAIRS_VAL_EVERY} in name '
             f'order, at least one): {shown}{", ..." if n_val > 10 else ""}']
    train_cfg = cfg.get('train_cfg') or {}
    length = train_cfg.get('max_iters', train_cfg.get('max_epochs'))
    if isinstance(train_cfg.get('val_begin'), int) and \
            isinstance(length, int) and train_cfg.val_begin > length:
        lines.append(f'--pairs: validating on the held-out pairs '
                     f'(train_cfg.val_begin {train_cfg.pop("val_begin")} '
                     f'was after the end of training)')
    return lines


def pairs_work_dir(config: str) -> str:
    """The default work dir of a ``--pairs`` run of ``config``:
    ``./work_dirs/<config name>_pairs``, apart from the config's own
    runs."""
    return osp.join('./work_dirs',
                    f'{osp.splitext(osp.basename(config))[0]}_pairs')


def build_config(args: argparse.Namespace,
                 notes: Optional[List[Tuple[int, str]]] = None) -> Config:
    """Load the config and apply the command-line overrides; appends the
    ``(logging level, message)`` pairs to log before training to
    ``notes``."""
    from mmfusenas.datasets.paired_image_dataset import IMG_SUFFIXES
    from mmfusenas.utils.checkpoint import read_checkpoint
    pairs = getattr(args, 'pairs', None)
    if pairs and getattr(args, 'data_root', None):
        raise ValueError('--pairs and --data-root both say where the data '
                         'is; give one')
    cfg = load_runner_config(args)
    lines = use_pair_folders(cfg, pairs, IMG_SUFFIXES) if pairs else []
    if pairs and args.work_dir is None and \
            'work_dir' not in (args.cfg_options or {}):
        cfg.work_dir = pairs_work_dir(args.config)
        lines.append(f'--pairs: work dir {cfg.work_dir}, not the one of '
                     "the config's own data (--work-dir sets another)")
    lines += _rescale(cfg, args)
    if args.amp:
        optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp needs optim_wrapper.type=OptimWrapper, '
                             f'got {optim_type}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume is not None:
        if args.resume != 'auto':
            read_checkpoint(args.resume, '--resume checkpoint')
        cfg.resume = True
        cfg.load_from = None if args.resume == 'auto' else args.resume
    check_run_files(cfg)  # before anything is built
    if notes is not None:
        notes += [(logging.INFO, line) for line in lines] + [
            (logging.WARNING, text) for text in schedule_warnings(cfg)]
    return cfg


def _drop_failed_start(work_dir: str, before: Optional[set],
                       runner=None) -> None:
    """Remove what a run that failed before its first iteration wrote into
    ``work_dir``, or the whole work dir when it made it (``before`` is
    None)."""
    from mmengine.dist import get_rank
    from mmengine.runner import BaseLoop

    from mmfusenas.utils.workdir_lock import LOCK_NAME
    loop = getattr(runner, '_train_loop', None)  # a dict until it is built
    started = isinstance(loop, BaseLoop) and getattr(loop, 'iter', 1) > 0
    if started or get_rank() != 0 or not osp.isdir(work_dir):
        return
    made = [work_dir] if before is None else [
        osp.join(work_dir, name)
        for name in sorted(set(os.listdir(work_dir)) - before - {LOCK_NAME})]
    for path in made:
        if osp.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
    if made:
        print(f'the run failed before its first iteration; removed what it '
              f'wrote: {", ".join(made)}', file=sys.stderr)


def build_runner(cfg: Config):
    """:func:`mmfusenas.engine.runner.build_runner` (imported here, after
    the arguments are parsed)."""
    from mmfusenas.engine.runner import build_runner as build
    return build(cfg)


def main(argv=None) -> None:
    args = parse_args(argv)  # before torch, mmdet and the registries
    from mmfusenas.utils.workdir_lock import WorkDirLockedError
    notes: List[Tuple[int, str]] = []
    cfg = build_config(args, notes)
    check_data_folders(cfg, 'train')  # before the work dir is made
    setup_distributed(cfg)  # gloo where there is no CUDA
    work_dir = cfg.work_dir
    before = set(os.listdir(work_dir)) if osp.isdir(work_dir) else None
    runner = None
    try:
        runner = build_runner(cfg)
        for level, text in notes:  # console and the log file of the run
            runner.logger.log(level, text)
        runner.train()
    except WorkDirLockedError:
        raise  # the work dir is another live run's: leave it alone
    except BaseException:
        _drop_failed_start(work_dir, before, runner)
        raise


if __name__ == '__main__':
    main()
