"""A progress bar over the test loop (``tools/test.py``)."""
from typing import Any, Dict, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.progress import end_progress, start_progress


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show a progress bar (:func:`mmfusenas.utils.progress.start_progress`,
    MMEngine's ``ProgressBar``) over the batches of the test loop.

    The ``LoggerHook`` logs a test iteration only every ``interval``
    iterations (20 in ``default_runtime.py``), so a small test set, or a
    slow first interval, ran silently between loading the checkpoint and
    the metrics. ``tools/test.py`` adds this hook; only the main process
    draws the bar (its ``N`` is that process's batches).

    Args:
        desc (str): the title printed before the bar. Defaults to
            ``'testing'``; the number of batches is appended.
    """

    priority = 'VERY_LOW'

    def __init__(self, desc: str = 'testing') -> None:
        self.desc = desc
        self._bar = None

    def before_test_epoch(self, runner: Runner) -> None:
        total = len(runner.test_dataloader)
        if is_main_process() and total:
            self._bar = start_progress(f'{self.desc} {total} batch(es)',
                                       total)

    def after_test_iter(self,
                        runner: Runner,
                        batch_idx: int,
                        data_batch: Any = None,
                        outputs: Optional[Sequence] = None) -> None:
        if self._bar is not None:
            self._bar.update()
            if self._bar.completed >= self._bar.task_num:
                self._end()     # before the metrics' summary is logged

    def after_test_epoch(self,
                         runner: Runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        self._end()

    def _end(self) -> None:
        if self._bar is not None:
            end_progress(self._bar)
            self._bar = None
