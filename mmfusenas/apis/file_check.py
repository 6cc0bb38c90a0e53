"""The check that folder inference makes before it writes anything.

``tools/fuse.py``, ``tools/enhance.py`` and the fusion benchmarks decode
every sample of a data set once (:func:`check_dataset_files`) and then stop
on the unreadable ones (:func:`refuse_unreadable`) or skip and list them
(:func:`format_skipped`). See ``docs/user_guides/inference.md``.
"""
import copy
from typing import List, Sequence

from mmfusenas.datasets.paired_image_dataset import _listing
from mmfusenas.utils.progress import track


def check_dataset_files(dataset,
                        desc: str = 'checking files',
                        progress: bool = True) -> List[dict]:
    """Decode every sample's files with the dataset's loading step.

    Args:
        dataset: a data set whose first pipeline transform loads the files.
        desc (str): the progress bar's text.
        progress (bool): show a progress bar.

    Returns:
        list[dict]: one ``dict(index=, stem=, error=)`` per unreadable
        sample.
    """
    bad = []
    for idx in track(range(len(dataset)), desc, enabled=progress):
        info = copy.deepcopy(dataset.get_data_info(idx))
        try:
            dataset.pipeline.transforms[0](info)
        except (OSError, ValueError, KeyError) as err:
            bad.append(dict(index=idx,
                            stem=info.get('stem') or str(info.get('img_path')),
                            error=f'{type(err).__name__}: {err}'))
    return bad


def format_skipped(bad: Sequence[dict]) -> str:
    """One line per bad sample of :func:`check_dataset_files` (at most
    20)."""
    return _listing([f'{b["stem"]}: {b["error"]}' for b in bad])


def refuse_unreadable(bad: Sequence[dict], total: int, noun: str,
                      rest: str) -> None:
    """Raise if any sample is unreadable.

    Args:
        bad (Sequence[dict]): the result of :func:`check_dataset_files`.
        total (int): the number of samples.
        noun (str): what a sample is, e.g. ``'pair(s)'``.
        rest (str): what ``--skip-bad`` does, e.g. ``'fuse the rest'``.

    Raises:
        ValueError: listing the unreadable samples.
    """
    if bad:
        raise ValueError(
            f'{len(bad)} of {total} {noun} cannot be read; nothing was '
            f'written (fix them, or pass --skip-bad to {rest}):\n' +
            format_skipped(bad))
