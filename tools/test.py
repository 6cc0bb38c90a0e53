"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

Runs the config's test loop (metrics of ``test_evaluator``); fused images are
written by ``FusedImageSaveHook`` — to ``--out-dir`` when given, adding the
hook if the config lacks it.
"""
import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from mmfusenas.utils.config import (add_runner_args, load_runner_config,
                                    setup_distributed)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a MMFuseNAS model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-dir', help='write the fused images here')
    add_runner_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint file not found: {args.checkpoint}')
    cfg = load_runner_config(args)
    cfg.load_from = args.checkpoint
    if args.out_dir is not None:
        hooks = cfg.get('custom_hooks', [])
        for hook in hooks:
            if hook['type'].split('.')[-1] == 'FusedImageSaveHook':
                hook['out_dir'] = args.out_dir
                break
        else:
            hooks.append(
                dict(type='FusedImageSaveHook', out_dir=args.out_dir))
        cfg.custom_hooks = hooks
    return cfg


def main(argv=None) -> dict:
    """Test a checkpoint; returns the metrics."""
    cfg = build_config(parse_args(argv))
    setup_distributed(cfg)  # gloo where there is no CUDA
    runner = Runner.from_cfg(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
