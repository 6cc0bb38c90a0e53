"""The check the folder tools (``tools/fuse.py``, ``tools/enhance.py``) and
the fusion benchmarks make before writing anything: every sample of a
dataset goes through its loading step once."""
import copy
from typing import Dict

from mmfusenas.utils.progress import track
from .paired_image_dataset import listing


def check_dataset_files(dataset,
                        desc: str = 'checking files',
                        progress: bool = True) -> Dict[int, str]:
    """``{index: 'stem: Error: message'}`` of every sample of ``dataset``
    that its first pipeline transform (the loading step) cannot decode."""
    bad = {}
    for idx in track(range(len(dataset)), desc, enabled=progress):
        info = copy.deepcopy(dataset.get_data_info(idx))
        try:
            dataset.pipeline.transforms[0](info)
        except (OSError, ValueError, KeyError) as err:
            stem = info.get('stem') or str(info.get('img_path'))
            bad[idx] = f'{stem}: {type(err).__name__}: {err}'
    return bad


def refuse_unreadable(bad: Dict[int, str], total: int, noun: str,
                      rest: str) -> None:
    """Raise a ValueError listing ``bad`` (of :func:`check_dataset_files`),
    if any, of ``total`` samples; ``noun`` names a sample (``'pair(s)'``),
    ``rest`` what ``--skip-bad`` does (``'fuse the rest'``)."""
    if bad:
        raise ValueError(
            f'{len(bad)} of {total} {noun} cannot be read; nothing was '
            f'written (fix them, or pass --skip-bad to {rest}):\n' +
            listing(list(bad.values())))
