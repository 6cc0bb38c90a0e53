"""Train (or search) with a config: ``python tools/train.py CONFIG``.

MMEngine style, as in mmdet / mmseg: ``--work-dir``, ``--resume [CKPT]``,
``--amp``, ``--cfg-options``, ``--launcher``; distributed launchers pass
``--local-rank`` or ``--local_rank``.

``--max-iters N`` (``--max-epochs N`` for epoch-based loops) changes the
length of training and rescales every setting counted in its iterations
(:func:`~mmfusenas.utils.schedule.rescale_schedule`: parameter schedulers,
warm-ups, validation / checkpoint / log intervals); the table of what
changed (field, before, after) is logged before training. Values given with
``--cfg-options`` win over rescaled ones. Before training, stages that the
run does not reach and parameter schedules that run past its end are logged
as warnings (:func:`~mmfusenas.utils.schedule.schedule_warnings`).

``--pairs IR_DIR VI_DIR`` trains a fusion config on two folders of image
pairs matched by stem, holding one pair in ten out for validation
(:func:`~mmfusenas.utils.data_folders.use_pair_folders`). A run that fails
before its first iteration leaves no log folder behind (nor the work dir,
when it made it).
"""
import argparse
import logging
import os
import os.path as osp
import shutil
import sys
from typing import List, Optional, Tuple

from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.runner import BaseLoop

from mmfusenas.datasets.paired_image_dataset import IMG_SUFFIXES
from mmfusenas.engine.runner import build_runner
from mmfusenas.utils.checkpoint import check_checkpoint_file
from mmfusenas.utils.config import (add_runner_args, load_runner_config,
                                    setup_distributed)
from mmfusenas.utils.data_folders import (check_data_folders,
                                          check_run_files, use_pair_folders)
from mmfusenas.utils.schedule import (format_schedule_changes,
                                      rescale_schedule, schedule_warnings)
from mmfusenas.utils.workdir_lock import LOCK_NAME, WorkDirLockedError


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a MMFuseNAS model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint; without a path, resume from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        '--max-iters',
        type=int,
        help='train for this many iterations, rescaling every iteration '
        'setting of the schedule with it (parameter schedulers, warm-ups, '
        'validation / checkpoint / log intervals); iteration-based train '
        'loops')
    length.add_argument(
        '--max-epochs',
        type=int,
        help='train for this many epochs, rescaling the schedule with it '
        '(as --max-iters); epoch-based train loops')
    parser.add_argument(
        '--pairs',
        nargs=2,
        metavar=('IR_DIR', 'VI_DIR'),
        help='train a fusion config on two folders of image pairs matched '
        'by stem (the config\'s first and second modality), no split file: '
        'one pair in ten (at least one) is held out for validation')
    add_runner_args(parser)
    return parser.parse_args(argv)


def _rescale(cfg: Config, args: argparse.Namespace) -> List[str]:
    """Apply ``--max-iters`` / ``--max-epochs``; returns the log lines.

    Settings also given with ``--cfg-options`` keep the given value.
    """
    max_iters = getattr(args, 'max_iters', None)
    max_epochs = getattr(args, 'max_epochs', None)
    if max_iters is None and max_epochs is None:
        return []
    option = '--max-iters' if max_iters is not None else '--max-epochs'
    length_key = 'max_iters' if max_iters is not None else 'max_epochs'
    options = dict(args.cfg_options or {})
    if f'train_cfg.{length_key}' in options:
        raise ValueError(f'{option} and --cfg-options train_cfg.'
                         f'{length_key} both set the length of training; '
                         'give one')
    changes = rescale_schedule(cfg, max_iters=max_iters,
                               max_epochs=max_epochs)
    if not changes:
        return [f'{option} {max_iters or max_epochs}: the config already '
                'trains this long; nothing rescaled']

    def given(path: str) -> bool:
        return any(path == key or path.startswith(f'{key}.')
                   for key in options)

    kept = [path for path, _, _ in changes if given(path)]
    if kept:  # the explicit values win
        cfg.merge_from_dict({key: value for key, value in options.items()
                             if any(p == key or p.startswith(f'{key}.')
                                    for p in kept)})
        changes = [c for c in changes if c[0] not in kept]
    lines = [format_schedule_changes(changes)] if changes else []
    if kept:
        lines.append(f'{option}: kept as given with --cfg-options: '
                     f'{", ".join(kept)}')
    return lines


def build_config(
        args: argparse.Namespace,
        notes: Optional[List[Tuple[int, str]]] = None) -> Config:
    """Load the config and apply the command-line overrides.

    Args:
        args: the parsed command line.
        notes (list, optional): when given, ``(logging level, message)``
            pairs to log before training are appended: the table of
            ``--max-iters`` / ``--max-epochs``, the warnings of
            :func:`~mmfusenas.utils.schedule.schedule_warnings` and the
            split of ``--pairs``.
    """
    pairs = getattr(args, 'pairs', None)
    if pairs and getattr(args, 'data_root', None):
        raise ValueError('--pairs and --data-root both say where the data '
                         'is; give one')
    cfg = load_runner_config(args)
    lines = use_pair_folders(cfg, tuple(pairs),
                             IMG_SUFFIXES) if pairs else []
    lines += _rescale(cfg, args)
    if args.amp:
        optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp needs optim_wrapper.type=OptimWrapper, '
                             f'got {optim_type}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        check_checkpoint_file(args.resume, '--resume checkpoint')
        cfg.resume = True
        cfg.load_from = args.resume
    # every weight file the run reads, before anything is built
    check_run_files(cfg)
    if notes is not None:
        notes += [(logging.INFO, line) for line in lines]
        notes += [(logging.WARNING, text)
                  for text in schedule_warnings(cfg)]
    return cfg


def _drop_failed_start(work_dir: str, before: Optional[set],
                       runner=None) -> None:
    """Remove what a run that failed before its first iteration wrote into
    ``work_dir`` (its timestamped log folder, the config dump), or the
    whole work dir when the run made it (``before`` is None). The error is
    on the console."""
    loop = getattr(runner, '_train_loop', None)  # a dict until it is built
    started = isinstance(loop, BaseLoop) and getattr(loop, 'iter', 1) > 0
    if started or get_rank() != 0 or not osp.isdir(work_dir):
        return
    if before is None:
        made = [work_dir]
    else:
        made = [osp.join(work_dir, name) for name in sorted(
            set(os.listdir(work_dir)) - before - {LOCK_NAME})]
    for path in made:
        if osp.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif osp.exists(path):
            os.remove(path)
    if made:
        print(f'the run failed before its first iteration; removed what it '
              f'wrote: {", ".join(made)}', file=sys.stderr)


def main(argv=None) -> None:
    notes: List[Tuple[int, str]] = []
    cfg = build_config(parse_args(argv), notes)
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
