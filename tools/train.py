"""Train (or search) with a config: ``python tools/train.py CONFIG``.

MMEngine style, as in mmdet / mmseg: ``--work-dir``, ``--resume [CKPT]``,
``--amp``, ``--cfg-options``, ``--launcher``; distributed launchers pass
``--local-rank`` or ``--local_rank``.
"""
import argparse

from mmengine.config import Config

from mmfusenas.engine.runner import build_runner
from mmfusenas.utils.checkpoint import check_checkpoint_file
from mmfusenas.utils.config import (add_runner_args, check_run_files,
                                    load_runner_config,
                                    setup_distributed)


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
    add_runner_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = load_runner_config(args)
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
    return cfg


def main(argv=None) -> None:
    cfg = build_config(parse_args(argv))
    setup_distributed(cfg)  # gloo where there is no CUDA
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    main()
