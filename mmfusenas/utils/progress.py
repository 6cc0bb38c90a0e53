"""Progress display for the command-line tools' long loops.

One helper, :func:`track`, on MMEngine's
:class:`~mmengine.utils.ProgressBar` (no extra dependency): a title line,
then ``[>>>>>   ] 3/10, 2.0 task/s, elapsed: 1s, ETA: 3s`` updated in place,
and a newline at the end. :func:`start_progress` / :func:`end_progress` are
its two halves, for loops driven by hooks (``ProgressBarHook``). The bar is
drawn only on a terminal; into a log file or a pipe the progress is one line
per :data:`LINE_STEP_PCT` per cent (:class:`LineProgress`), as MMEngine's
logger writes one line per interval.
"""
import sys
import time
from typing import Iterable, Iterator, Optional, TextIO, TypeVar, Union

from mmengine.utils import ProgressBar

T = TypeVar('T')

#: a progress line is written at every this many per cent off a terminal
LINE_STEP_PCT = 10


class LineProgress:
    """Progress as lines (``3/10 (30%), elapsed: 2s``), one each time another
    :data:`LINE_STEP_PCT` per cent is done: for output that is not a
    terminal, where a redrawn bar leaves hundreds of carriage returns.
    Has the ``update()`` / ``file`` interface of MMEngine's ``ProgressBar``.
    """

    def __init__(self, total: int, file: TextIO) -> None:
        self.task_num, self.file, self.completed = total, file, 0
        self.start = time.perf_counter()
        self._shown = 0

    def update(self, num_tasks: int = 1) -> None:
        self.completed += num_tasks
        pct = 100 * self.completed // self.task_num
        if pct // LINE_STEP_PCT > self._shown // LINE_STEP_PCT or \
                self.completed == self.task_num:
            self._shown = pct
            print(f'{self.completed}/{self.task_num} ({pct}%), elapsed: '
                  f'{time.perf_counter() - self.start:.0f}s', file=self.file,
                  flush=True)


def track(items: Iterable[T],
          desc: str,
          total: Optional[int] = None,
          enabled: bool = True,
          file: Optional[TextIO] = None) -> Iterator[T]:
    """Iterate over ``items`` showing a progress bar.

    Args:
        items: what to iterate over.
        desc (str): the title printed before the bar (e.g. ``'fusing 25
            pair(s)'``).
        total (int, optional): number of items (``len(items)`` when
            omitted and available).
        enabled (bool): False iterates silently. Defaults to True.
        file: output stream. Defaults to ``sys.stdout`` (at call time, so
            captured output sees it).

    Yields:
        the items of ``items``.
    """
    if total is None and hasattr(items, '__len__'):
        total = len(items)  # type: ignore[arg-type]
    if not enabled or not total:
        yield from items
        return
    bar = start_progress(desc, total, file)
    try:
        for item in items:
            yield item
            bar.update()
    finally:
        end_progress(bar)


def start_progress(
        desc: str,
        total: int,
        file: Optional[TextIO] = None) -> Union[ProgressBar, LineProgress]:
    """Print the title line and start a bar of ``total`` steps; for loops
    that :func:`track` cannot wrap (e.g. a runner's loop, driven by hooks).
    Call ``bar.update()`` per step and :func:`end_progress` at the end.

    Args:
        desc (str): the title printed before the bar.
        total (int): number of steps.
        file: output stream. Defaults to ``sys.stdout`` (at call time).

    Returns:
        ProgressBar | LineProgress: MMEngine's bar, drawn at 0 / ``total``,
        on a terminal; :class:`LineProgress` elsewhere.
    """
    out = file or sys.stdout
    print(f'{desc}:', file=out, flush=True)
    isatty = getattr(out, 'isatty', None)
    if isatty is not None and isatty():
        return ProgressBar(total, file=out)
    return LineProgress(total, out)


def end_progress(bar: Union[ProgressBar, LineProgress]) -> None:
    """End the bar's line (the newline after the last update)."""
    if isinstance(bar, ProgressBar):
        print(file=bar.file, flush=True)
