"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

Runs the config's test loop (metrics of ``test_evaluator``) with a progress
bar over its batches (``ProgressBarHook``, added when the config lacks it;
the ``LoggerHook`` logs a test iteration only every ``interval``). Fused
images are written by ``FusedImageSaveHook``: with ``--out-dir D`` directly
into ``D`` (``D/<stem>.png``; the hook is added if the config lacks it),
otherwise to the config's hook folder (``<log_dir>/fused_test/`` by
default).

The checkpoint is loaded strictly: a checkpoint of another architecture, or
one with missing / extra keys, is refused with the keys listed
(``--cfg-options default_hooks.checked_load.strict=False`` loads the
matching part on purpose).
"""
import argparse
from typing import Any, Dict, Optional, Sequence

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusenas.engine.runner import build_runner
from mmfusenas.registry import HOOKS
from mmfusenas.utils.checkpoint import read_checkpoint
from mmfusenas.utils.config import (add_runner_args, load_runner_config,
                                    setup_distributed)
from mmfusenas.utils.data_folders import check_data_folders
from mmfusenas.utils.progress import end_progress, start_progress


@HOOKS.register_module(force=True)  # (this file may be imported twice)
class ProgressBarHook(Hook):
    """:func:`~mmfusenas.utils.progress.start_progress` over the test loop's
    batches, from the main process (the ``LoggerHook`` logs only every
    ``interval`` iterations).

    Args:
        desc (str): The title; the number of batches is appended.
            Defaults to 'testing'.
    """

    priority = 'VERY_LOW'

    def __init__(self, desc: str = 'testing') -> None:
        self.desc, self._bar = desc, None

    def before_test_epoch(self, runner: Runner) -> None:
        total = len(runner.test_dataloader)
        if is_main_process() and total:
            self._bar = start_progress(f'{self.desc} {total} batch(es)',
                                       total)

    def after_test_iter(self, runner: Runner, batch_idx: int,
                        data_batch: Any = None,
                        outputs: Optional[Sequence] = None) -> None:
        if self._bar is not None:
            self._bar.update()
            if self._bar.completed >= self._bar.task_num:
                self.after_test_epoch(runner)  # before the metrics' log

    def after_test_epoch(self, runner: Runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        if self._bar is not None:
            end_progress(self._bar)
            self._bar = None


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a MMFuseNAS model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out-dir',
        help='write the fused images into this folder (DIR/<stem>.png)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    read_checkpoint(args.checkpoint, 'checkpoint')
    cfg = load_runner_config(args)
    cfg.load_from = args.checkpoint
    # evaluating must not block on (or block) a training run of the same
    # work dir; loading stays strict (default_hooks.checked_load.strict)
    cfg.work_dir_lock = False
    hooks = cfg.get('custom_hooks', [])
    types = [str(hook['type']).split('.')[-1] for hook in hooks]
    if 'ProgressBarHook' not in types:
        hooks.append(dict(type='ProgressBarHook'))
    if args.out_dir is not None:
        if 'FusedImageSaveHook' in types:
            hook = hooks[types.index('FusedImageSaveHook')]
        else:
            hook = dict(type='FusedImageSaveHook')
            hooks.append(hook)
        hook.update(out_dir=args.out_dir, test_subdir='')
    cfg.custom_hooks = hooks
    return cfg


def main(argv=None) -> dict:
    """Test a checkpoint; returns the metrics."""
    cfg = build_config(parse_args(argv))
    check_data_folders(cfg, 'test')  # before the work dir is made
    setup_distributed(cfg)  # gloo where there is no CUDA
    runner = build_runner(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
