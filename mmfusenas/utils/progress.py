"""Progress display for the command-line tools' long loops.

One helper, :func:`track`, on MMEngine's
:class:`~mmengine.utils.ProgressBar` (no extra dependency): a title line,
then ``[>>>>>   ] 3/10, 2.0 task/s, elapsed: 1s, ETA: 3s`` updated in place,
and a newline at the end. :func:`start_progress` / :func:`end_progress` are
its two halves, for loops driven by hooks (``ProgressBarHook``).
"""
import sys
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

from mmengine.utils import ProgressBar

T = TypeVar('T')


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


def start_progress(desc: str,
                   total: int,
                   file: Optional[TextIO] = None) -> ProgressBar:
    """Print the title line and start a bar of ``total`` steps; for loops
    that :func:`track` cannot wrap (e.g. a runner's loop, driven by hooks).
    Call ``bar.update()`` per step and :func:`end_progress` at the end.

    Args:
        desc (str): the title printed before the bar.
        total (int): number of steps.
        file: output stream. Defaults to ``sys.stdout`` (at call time).

    Returns:
        ProgressBar: MMEngine's bar, drawn at 0 / ``total``.
    """
    out = file or sys.stdout
    print(f'{desc}:', file=out, flush=True)
    return ProgressBar(total, file=out)


def end_progress(bar: ProgressBar) -> None:
    """End the bar's line (the newline after the last update)."""
    print(file=bar.file, flush=True)
