"""Progress display for the tools' long loops: MMEngine's ``ProgressBar``
on a terminal, one line per 10 % elsewhere (log files, pipes)."""
import sys
import time
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

from mmengine.utils import ProgressBar

T = TypeVar('T')


class LineProgress:
    """``ProgressBar.update()`` as one line per 10 % (``3/10 (30%) ...``)."""

    def __init__(self, total: int, file: TextIO) -> None:
        self.task_num, self.file, self.completed = total, file, 0
        self.start, self._shown = time.perf_counter(), 0

    def update(self, num_tasks: int = 1) -> None:
        self.completed += num_tasks
        pct = 100 * self.completed // self.task_num
        if pct // 10 > self._shown or self.completed == self.task_num:
            self._shown = pct // 10
            print(f'{self.completed}/{self.task_num} ({pct}%), elapsed: '
                  f'{time.perf_counter() - self.start:.0f}s', file=self.file,
                  flush=True)


def start_progress(desc: str, total: int, file: Optional[TextIO] = None):
    """Print ``desc:``; a bar to ``update()``, then :func:`end_progress`."""
    out = file or sys.stdout
    print(f'{desc}:', file=out, flush=True)
    if getattr(out, 'isatty', lambda: False)():
        return ProgressBar(total, file=out)
    return LineProgress(total, out)


def end_progress(bar) -> None:
    """End the bar's line."""
    if isinstance(bar, ProgressBar):
        print(file=bar.file, flush=True)


def track(items: Iterable[T],
          desc: str,
          total: Optional[int] = None,
          enabled: bool = True,
          file: Optional[TextIO] = None) -> Iterator[T]:
    """Yield ``items`` showing progress titled ``desc``."""
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
