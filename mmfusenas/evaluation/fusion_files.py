"""Reading, scoring, tabulating and ranking fused images given as files.

The functions that ``tools/analysis_tools/eval_fusion.py``, ``tools/fuse.py
--metrics`` and the fusion benchmarks share, so that all of them give the
same numbers: 8-bit reading, the presets' gray rules, the metrics of one
triple of files, the per-image table and the ranking rule of
``eval_fusion.py --methods-root``. See ``docs/user_guides/evaluation.md``.
"""
import os
import os.path as osp
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import (Callable, Dict, FrozenSet, Iterable, Iterator, Optional,
                    Sequence, Tuple, TypeVar)

import cv2
import numpy as np
from terminaltables import AsciiTable

from mmfusenas.evaluation.fusion_presets import (
    FUSION_PRESETS, summed_metrics_note)
from mmfusenas.utils.fileio import read_image

T = TypeVar('T')
R = TypeVar('R')

#: metrics where a lower value is better
LOWER_BETTER: FrozenSet[str] = frozenset({'Nabf', 'CE', 'MSE'})


def add_ranks(table: Dict[str, dict],
              metrics: Sequence[str],
              lower_better: Optional[Iterable[str]] = None,
              mean_rank: bool = True) -> None:
    """Rank the methods ``{method: {metric: value}}`` of ``table`` per
    metric, in place: each row gets ``'rank'`` (``{metric: rank}``) and,
    with ``mean_rank``, ``'mean_rank'`` (rounded to 3 decimals).

    Rank 1 is the best (``lower_better``, default :data:`LOWER_BETTER`:
    the lowest value); ties share the best rank; a non-finite value ranks
    last; rows with an ``'absent'`` key are left out.
    """
    lower = LOWER_BETTER if lower_better is None else frozenset(lower_better)
    rows = [r for r in table.values() if 'absent' not in r]
    for row in rows:
        row['rank'] = {}
    for metric in metrics:
        values = np.array([float(r[metric]) for r in rows])
        values = np.where(np.isfinite(values),
                          values if metric in lower else -values, np.inf)
        for row, better in zip(rows, values[None, :] < values[:, None]):
            row['rank'][metric] = 1 + int(better.sum())
    if mean_rank:
        for row in rows:
            row['mean_rank'] = round(
                float(np.mean(list(row['rank'].values()))), 3)


def read_bgr8(path: str) -> np.ndarray:
    """Read an 8-bit image as BGR; other depths, transparent pixels and
    unusual channel counts are refused (naming the file)."""
    img = read_image(path)
    if img.dtype != np.uint8:
        raise ValueError(
            f'{path} is a {img.dtype} image ({img.dtype.itemsize * 8}-bit '
            'per channel); the fusion metrics are defined on 8-bit images: '
            'convert it explicitly (e.g. scale 16-bit to 0..255) first')
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] not in (3, 4):
        raise ValueError(f'{path} has {img.shape[2]} channels, expected 1, '
                         '3 or 4 (opaque RGBA)')
    if img.shape[2] == 4 and not (img[..., 3] == 255).all():
        raise ValueError(
            f'{path} has an alpha channel with transparent pixels; '
            'flatten it onto a background explicitly first')
    return np.ascontiguousarray(img[..., :3])


def read_gray(path: str, preset: str) -> np.ndarray:
    """:func:`read_bgr8`, then the gray rule of ``preset``."""
    return FUSION_PRESETS[preset]['gray'](read_bgr8(path))


def pair_workers(device: Optional[str] = None) -> int:
    """How many pairs :func:`in_order` scores at once on ``device``
    (``None``: CUDA when available): on the CPU the threads of
    :func:`~mmfusenas.evaluation.functional.fusion.fusion_workers`, else
    1."""
    import torch
    from mmengine.device import get_device

    from mmfusenas.evaluation.functional.fusion import fusion_workers
    if torch.device(device or get_device()).type != 'cpu':
        return 1
    return fusion_workers()


def in_order(fn: Callable[[T], R], jobs: Iterable[T],
             workers: int) -> Iterator[R]:
    """``fn(job)`` of every job, yielded in the jobs' order, ``workers``
    jobs at once on threads with one torch intra-op thread each (a few
    jobs ahead at most); an error is raised at its job, and the jobs not
    started are dropped."""
    if workers <= 1:
        yield from map(fn, jobs)
        return
    import torch
    saved = torch.get_num_threads()
    window: deque = deque()
    try:
        with ThreadPoolExecutor(workers, initializer=torch.set_num_threads,
                                initargs=(1, )) as pool:
            try:
                for job in jobs:
                    window.append(pool.submit(fn, job))
                    if len(window) > 2 * workers:
                        yield window.popleft().result()
                while window:
                    yield window.popleft().result()
            finally:
                for future in window:
                    future.cancel()
    finally:
        torch.set_num_threads(saved)


def score_files(paths: Dict[str, str],
                preset: str,
                names: Sequence[str],
                stem: str,
                method: Optional[str] = None,
                device: Optional[str] = None,
                workers: Optional[int] = None
                ) -> Tuple[Dict[str, float], Dict[str, np.ndarray]]:
    """The metrics ``{metric: value}`` of one triple ``paths`` (``{'IR',
    'VI', 'fused': path}``) and its grey images; errors name ``stem``,
    ``method`` and the files. ``workers``: threads of the metrics on the
    CPU (``compute_fusion_metrics``'s; 1 where :func:`in_order` scores
    pairs at once)."""
    import torch
    from mmengine.device import get_device

    from mmfusenas.evaluation.functional.fusion import \
        compute_fusion_metrics
    imgs = {k: read_gray(p, preset) for k, p in paths.items()}
    shapes = {k: v.shape for k, v in imgs.items()}
    where = f'stem {stem!r}' + (f' of method {method!r}'
                                if method is not None else '')
    if len(set(shapes.values())) > 1:
        shown = paths if method is not None else {
            k: osp.basename(p) for k, p in paths.items()}
        raise ValueError(
            f'size mismatch for {where} (HxW): ' +
            ', '.join(f'{k} {shown[k]} {s[0]}x{s[1]}'
                      for k, s in shapes.items()))
    try:
        row = compute_fusion_metrics(
            *(torch.from_numpy(imgs[k]).to(device or get_device())
              for k in ('IR', 'VI', 'fused')), preset, names, workers)
    except (ValueError, KeyError, ArithmeticError) as err:
        raise ValueError(
            f'metrics of {where} failed (' +
            ', '.join(f'{k} {p}' for k, p in paths.items()) +
            f'): {type(err).__name__}: {err}') from err
    return row, imgs


def mean_metrics(per_image: Dict[str, Dict[str, float]],
                 names: Sequence[str]) -> Dict[str, float]:
    """``{metric: mean over the rows of per_image}`` (float64)."""
    return {m: float(np.mean([r[m] for r in per_image.values()]))
            for m in names}


def format_metrics_table(per_image: Dict[str, Dict[str, float]],
                         mean: Dict[str, float], preset: str,
                         digits: int = 4) -> str:
    """The table of per-image rows and the mean row, with the note on
    summed metrics beneath."""
    names = list(mean)
    rows = [['image'] + names]
    for stem, r in per_image.items():
        rows.append([stem] + [f'{r[m]:.{digits}f}' for m in names])
    rows.append([f'mean ({len(per_image)})'] +
                [f'{mean[m]:.{digits}f}' for m in names])
    table = AsciiTable(rows, title=f'preset {preset}, {len(per_image)} '
                       'pair(s)')
    table.inner_footing_row_border = True
    note = summed_metrics_note(preset, names)
    return table.table + (f'\n{note}' if note else '')


def check_writable(path: str) -> None:
    """Fail before any work when ``path`` cannot be written."""
    if osp.isdir(path):
        raise IsADirectoryError(f'--out {path} is a folder, expected a '
                                'JSON file name')
    folder = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise OSError(f'--out {path}: cannot create folder {folder}: '
                      f'{err.strerror}') from None
    if not os.access(folder, os.W_OK | os.X_OK) or (
            osp.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(f'--out {path} is not writable')
