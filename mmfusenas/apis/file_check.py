"""The check folder inference (``tools/fuse.py``, ``tools/enhance.py``, the
fusion benchmarks) makes before it writes anything: every sample is decoded
once, then the unreadable ones stop the run or are skipped and listed."""
import copy
from typing import List, Sequence

from mmfusenas.datasets.paired_image_dataset import _listing
from mmfusenas.utils.progress import track


def check_dataset_files(dataset,
                        desc: str = 'checking files',
                        progress: bool = True) -> List[dict]:
    """``dict(index=, stem=, error=)`` of every sample of ``dataset`` that
    its first pipeline transform (the loading step) cannot decode."""
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
    """Raise a ValueError listing ``bad`` (of :func:`check_dataset_files`),
    if any, of ``total`` samples; ``noun`` names a sample (``'pair(s)'``),
    ``rest`` what ``--skip-bad`` does (``'fuse the rest'``)."""
    if bad:
        raise ValueError(
            f'{len(bad)} of {total} {noun} cannot be read; nothing was '
            f'written (fix them, or pass --skip-bad to {rest}):\n' +
            format_skipped(bad))
