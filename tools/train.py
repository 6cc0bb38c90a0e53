"""Train (or search) with a config: ``python tools/train.py CONFIG``.

MMEngine style, as in mmdet / mmseg, on MMEngine's ``Runner``. ``--max-iters
N`` / ``--max-epochs N`` set the length of training and rescale every
setting counted in its iterations
(:func:`~mmfusenas.utils.schedule.rescale_schedule`); values given with
``--cfg-options`` win. ``--pairs IR_DIR VI_DIR`` trains a fusion config on
two folders of pairs matched by stem. The work dir is locked while the run
trains; a run that fails before its first iteration leaves no log folder
behind (nor the work dir, when it made it). The parser imports neither
torch nor mmdet nor the registries (``--help`` and usage errors answer at
once).
"""
import argparse
import logging
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

from mmengine.config import Config

from mmfusenas.utils.config import (add_runner_args, check_run_files,
                                    load_runner_config, setup_distributed)
from mmfusenas.utils.data_folders import check_data_folders
from mmfusenas.utils.schedule import set_schedule_length


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


def build_config(args: argparse.Namespace,
                 notes: Optional[List[Tuple[int, str]]] = None) -> Config:
    """Load the config and apply the command-line overrides; appends the
    ``(logging level, message)`` pairs to log before training to
    ``notes``."""
    from mmfusenas.datasets.pair_folders import (pairs_work_dir,
                                                 use_pair_folders)
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
    key = 'max_iters' if args.max_iters is not None else 'max_epochs'
    lines += set_schedule_length(cfg, key, getattr(args, key),
                                 args.cfg_options)
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
        notes += [(logging.INFO, line) for line in lines]
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)  # before torch, mmdet and the registries
    from mmfusenas.engine.runner import build_runner, remove_failed_start
    from mmfusenas.utils.workdir_lock import lock_work_dir
    notes: List[Tuple[int, str]] = []
    cfg = build_config(args, notes)
    check_data_folders(cfg, 'train')  # before the work dir is made
    setup_distributed(cfg)  # gloo where there is no CUDA
    work_dir = cfg.work_dir
    before = set(os.listdir(work_dir)) if osp.isdir(work_dir) else None
    lock = lock_work_dir(work_dir, args.launcher) if cfg.get(
        'work_dir_lock', True) else None  # one run per work dir
    runner = None
    try:
        runner = build_runner(cfg)
        if lock is not None and lock.stale_message:
            notes.append((logging.WARNING, lock.stale_message))
        for level, text in notes:  # console and the log file of the run
            runner.logger.log(level, text)
        runner.train()
    except BaseException:
        if removed := remove_failed_start(work_dir, before, runner):
            print('the run failed before its first iteration; removed what '
                  f'it wrote: {", ".join(removed)}', file=sys.stderr)
        raise
    finally:
        if lock is not None:
            lock.release()


if __name__ == '__main__':
    main()
