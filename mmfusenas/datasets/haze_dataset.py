"""Hazy images paired with their haze-free ground truth (RESIDE layouts).

:class:`HazeDataset` reads a split folder in the RESIDE SOTS / ITS / OTS
layout, ``hazy/`` and ``clear/`` (or ``GT/`` / ``gt/``): a hazy file
``<id>_<k>[_<beta>].png`` pairs with the clear file ``<id>``, a hazy file
whose stem equals a clear stem pairs with it directly (O-HAZE, the toy
data); ``hazy/`` alone, or images directly in ``data_root``, are unpaired.
Samples use the enhancement fields (``low`` = hazy input, ``gt`` = clear),
so :class:`~mmfusenas.datasets.transforms.LoadEnhanceImages`,
:class:`~mmfusenas.models.ImageEnhancer` and
:class:`~mmfusenas.evaluation.ImageQualityMetric` work unchanged.
"""
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

from mmengine import fileio
from mmengine.logging import MMLogger

from mmfusenas.registry import DATASETS
from .lowlight_dataset import LowLightDataset
from .paired_image_dataset import _listing, data_hint


def detect_paired_layout(data_root: str, name: str,
                         layouts: Sequence[Tuple[str, Sequence[str]]],
                         with_gt: Optional[bool],
                         backend_args: Optional[dict] = None
                         ) -> 'OrderedDict[str, str]':
    """Find ``(input folder, GT folder)`` of a paired restoration layout.

    Args:
        data_root (str): the split folder.
        name (str): dataset class name, for messages.
        layouts (Sequence[tuple[str, Sequence[str]]]): ``(input folder,
            GT folder candidates)`` in order of preference.
        with_gt (bool, optional): True requires GT, False ignores it, None
            uses it when present.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments. Defaults to None (inferred from the path).

    Returns:
        OrderedDict: ``{'low': input}`` or ``{'low': input, 'gt': gt}``
        (``''`` = ``data_root``).
    """
    root = data_root or '.'
    if not fileio.isdir(root, backend_args=backend_args):
        raise FileNotFoundError(f'{name}: data_root {root!r} is not a '
                                f'folder. {data_hint(root)}')
    subdirs = sorted(
        fileio.list_dir_or_file(
            root, list_file=False, backend_args=backend_args))
    for low, gts in layouts:
        if low not in subdirs:
            continue
        gt = next((g for g in gts if g in subdirs), None)
        if gt is None or with_gt is False:
            if with_gt:
                raise ValueError(
                    f'{name}: with_gt=True but data_root {root!r} has '
                    f'{low}/ without a ground-truth folder (one of '
                    f'{list(gts)}); its sub-folders: {subdirs}')
            return OrderedDict(low=low)
        return OrderedDict(low=low, gt=gt)
    known = ', '.join(f'{low}/ + {"|".join(gts)}/' for low, gts in layouts)
    if with_gt:
        raise ValueError(f'{name}: no paired layout ({known}) under '
                         f'data_root {root!r}; sub-folders: {subdirs}')
    return OrderedDict(low='')


class PairedLayoutDataset(LowLightDataset):
    """A :class:`LowLightDataset` whose layout is detected from
    :attr:`LAYOUTS` (``(input folder, GT folder candidates)``) when
    ``data_prefix`` is not given; see :func:`detect_paired_layout`."""

    LAYOUTS: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 with_gt: Optional[bool] = None,
                 **kwargs) -> None:
        if not data_prefix:
            data_prefix = detect_paired_layout(
                data_root, type(self).__name__, self.LAYOUTS, with_gt,
                kwargs.get('backend_args'))
        super().__init__(
            data_root=data_root, data_prefix=data_prefix, **kwargs)


@DATASETS.register_module()
class HazeDataset(PairedLayoutDataset):
    """Hazy / clear pairs (RESIDE SOTS, ITS, OTS, O-HAZE, the toy haze).

    Examples::

        HazeDataset(data_root='data/RESIDE/SOTS/indoor')   # hazy/, clear/|GT/
        HazeDataset(data_root='data/toy_haze/val')         # hazy/, clear/

    Args:
        data_root (str): the split folder.
        data_prefix (dict, optional): ``dict(low=<hazy folder>[,
            gt=<clear folder>])``; None detects ``hazy/`` + ``clear/`` |
            ``GT/`` | ``gt/``.
        with_gt (bool, optional): see :class:`LowLightDataset`.
        **kwargs: other :class:`LowLightDataset` arguments
            (``img_suffixes``, ``on_unpaired``, ``pipeline``, ...).
    """

    LAYOUTS = (('hazy', ('clear', 'GT', 'gt')), )

    @staticmethod
    def gt_stem(hazy_stem: str, gt_stems) -> Optional[str]:
        """The clear stem of a hazy stem: itself if present, else the part
        before the first ``'_'`` (RESIDE), else None."""
        if hazy_stem in gt_stems:
            return hazy_stem
        prefix = hazy_stem.split('_', 1)[0]
        return prefix if prefix in gt_stems else None

    def load_data_list(self) -> List[dict]:
        if 'gt' not in self.modalities:
            return super().load_data_list()
        if self.ann_file:
            raise ValueError('HazeDataset: ann_file is not supported for '
                             'paired haze data (hazy and clear stems '
                             'differ); use indices= or separate folders')
        hazy = self._scan_folder('low')
        clear = self._scan_folder('gt')
        data_list, unpaired = [], []
        for stem in sorted(hazy):
            gt = self.gt_stem(stem, clear)
            if gt is None:
                unpaired.append(f'{hazy[stem]} (no {stem!r} or '
                                f"{stem.split('_', 1)[0]!r} in "
                                f"{self.data_prefix['gt']})")
                continue
            data_list.append(
                dict(
                    img_path=dict(low=hazy[stem], gt=clear[gt]),
                    stem=stem,
                    modalities=self.modalities))
        if unpaired:
            if self.on_unpaired == 'error':
                raise ValueError(
                    f'HazeDataset: {len(unpaired)} hazy image(s) have no '
                    'clear partner; set on_unpaired=\'skip\' to drop them:\n'
                    + _listing(unpaired))
            MMLogger.get_current_instance().warning(
                f'HazeDataset: dropping {len(unpaired)} unpaired hazy '
                'image(s)')
        if self.check_sizes:
            self._check_pair_sizes(data_list)
        return data_list
