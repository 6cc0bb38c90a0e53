"""A progress bar over the test loop (``tools/test.py``)."""
from typing import Any, Dict, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusenas.registry import HOOKS
from mmfusenas.utils.progress import end_progress, start_progress


@HOOKS.register_module()
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
