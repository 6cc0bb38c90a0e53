"""mmdet's ``VOCMetric`` without its process pool.

mmdet 3.3's ``eval_map`` (which ``VOCMetric.compute_metrics`` calls) forks a
``multiprocessing.Pool`` of up to 4 workers for every evaluation with more
than one image, and leaves it to a finaliser to join them. Forked from a
training process that runs threads (torch's intra-op pool, the fusion
metrics' and FMI's thread pools, tqdm's monitor), a worker can inherit a lock
held at fork time and block forever; the evaluation then hangs in the
finaliser's ``join`` (seen in the test suite: ``_terminate_pool`` under
``voc_metric.py`` line 146, the worker waiting on a semaphore). This
``VOCMetric`` computes the same per-image TP / FP in the calling process.
"""
import itertools
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, List

from mmdet.evaluation.functional import mean_ap
from mmdet.evaluation.metrics import VOCMetric as _MMDetVOCMetric

from mmfusenas.registry import METRICS


class InProcessPool:
    """What ``eval_map`` uses of ``multiprocessing.Pool`` (``starmap``,
    ``close``), run in the calling process, in order."""

    def __init__(self, processes: int = None) -> None:
        self.processes = processes

    def starmap(self, func: Callable, iterable: Iterable) -> List:
        return list(itertools.starmap(func, iterable))

    def close(self) -> None:
        pass


@contextmanager
def in_process_eval_map() -> Iterator[None]:
    """Within the block, mmdet's ``eval_map`` starts no processes."""
    saved = mean_ap.Pool
    mean_ap.Pool = InProcessPool
    try:
        yield
    finally:
        mean_ap.Pool = saved


@METRICS.register_module()
class VOCMetric(_MMDetVOCMetric):
    """``mmdet.VOCMetric`` (same arguments, same results) computed in the
    calling process: see the module docstring for why."""

    def compute_metrics(self, results: list) -> dict:
        with in_process_eval_map():
            return super().compute_metrics(results)
