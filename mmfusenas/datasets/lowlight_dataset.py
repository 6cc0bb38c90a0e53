"""Low-light images, paired with their normal-light ground truth or alone.

:class:`LowLightDataset` reads a split folder in the LOL layout
(``{low,high}/``), the layout of the official RUAS sample folders and of
MIT-Adobe FiveK as RUAS ships it (``{test,gt}/``), or unpaired low-light
images alone (DARK FACE, ExDark, any folder). It indexes them with the
machinery of :class:`~mmfusenas.datasets.PairedImageDataset`: stems must be
unique per folder, and a low-light image without its GT partner is an error
naming it (or, with ``on_unpaired='skip'``, dropped with a warning); images
are read by :class:`~mmfusenas.datasets.transforms.LoadEnhanceImages`.
"""
import os.path as osp
from collections import OrderedDict
from typing import Callable, Optional, Sequence, Union

from mmengine import fileio

from mmfusenas.registry import DATASETS
from .paired_image_dataset import (IMG_SUFFIXES, PairedImageDataset,
                                   data_hint)

#: paired layouts recognised by :func:`detect_lowlight_layout`:
#: (low-light sub-folder, ground-truth sub-folder)
PAIRED_LAYOUTS = (('low', 'high'), ('test', 'gt'))


def _has_images(folder: str,
                suffixes: Sequence[str],
                backend_args: Optional[dict] = None) -> bool:
    return any(
        not name.startswith('.') and osp.splitext(name)[1].lower() in suffixes
        for name in fileio.list_dir_or_file(
            folder, list_dir=False, backend_args=backend_args))


def detect_lowlight_layout(
        data_root: str,
        with_gt: Optional[bool] = None,
        img_suffixes: Sequence[str] = IMG_SUFFIXES,
        backend_args: Optional[dict] = None) -> 'OrderedDict[str, str]':
    """Find the low-light layout of ``data_root``.

    Tried in order: ``{low,high}`` (LOL), ``{test,gt}`` (RUAS / MIT), a lone
    ``low/`` or ``test/`` (unpaired), images directly in ``data_root``
    (unpaired).

    Args:
        data_root (str): the split folder.
        with_gt (bool, optional): True requires a paired layout, False uses
            only the low-light folder of any layout, None takes what is
            there. Defaults to None.
        img_suffixes (Sequence[str]): lower-case image suffixes.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments. Defaults to None (inferred from the path).

    Returns:
        OrderedDict[str, str]: ``{'low': sub-folder}`` or ``{'low': ...,
        'gt': ...}``; ``''`` means ``data_root`` itself.

    Raises:
        FileNotFoundError: ``data_root`` is not a folder.
        ValueError: no layout found, or no paired layout with
            ``with_gt=True``; the message lists the sub-folders.
    """
    root = data_root or '.'
    if not fileio.isdir(root, backend_args=backend_args):
        raise FileNotFoundError(
            f'LowLightDataset: data_root {root!r} is not a folder. '
            f'{data_hint(root)}')
    subdirs = sorted(
        fileio.list_dir_or_file(
            root, list_file=False, backend_args=backend_args))
    for low, gt in PAIRED_LAYOUTS:
        if low in subdirs and gt in subdirs:
            return OrderedDict(low=low) if with_gt is False else OrderedDict(
                low=low, gt=gt)
    known = ', '.join('{' + ','.join(pair) + '}' for pair in PAIRED_LAYOUTS)
    if with_gt:
        raise ValueError(
            f'LowLightDataset: with_gt=True but data_root {root!r} has no '
            f'paired layout ({known}); its sub-folders: {subdirs}. Pass '
            "data_prefix=dict(low=..., gt=...) explicitly.")
    for low, _ in PAIRED_LAYOUTS:
        if low in subdirs:
            return OrderedDict(low=low)
    if _has_images(root, img_suffixes, backend_args):
        return OrderedDict(low='')
    raise ValueError(
        f'LowLightDataset: no low-light layout under data_root {root!r} '
        f'(sub-folders: {subdirs}, no image files). Known: paired {known}, '
        "a lone 'low/' or 'test/', or a folder of images. Pass "
        "data_prefix=dict(low=...[, gt=...]) explicitly.")


@DATASETS.register_module()
class LowLightDataset(PairedImageDataset):
    """Low-light images, optionally paired with ground truth by file stem.

    Each data-list entry is ``dict(img_path={'low': ..., 'gt': ...},
    stem=..., modalities=('low', 'gt'))`` (no ``'gt'`` when unpaired),
    sorted by stem. Use
    :class:`~mmfusenas.datasets.transforms.LoadEnhanceImages` and
    :class:`~mmfusenas.datasets.transforms.PackEnhanceInputs` in the
    pipeline.

    Examples::

        LowLightDataset(data_root='data/LOL/eval15')          # low/, high/
        LowLightDataset(data_root='data/MIT')                 # test/, gt/
        LowLightDataset(data_root='data/DarkFace')            # images only
        LowLightDataset(data_prefix=dict(low='a/', gt='b/'))  # explicit

    Args:
        data_root (str): the split folder; ``data_prefix`` and ``ann_file``
            are relative to it. Defaults to ''.
        data_prefix (dict, optional): ``dict(low=<folder>)`` or
            ``dict(low=<folder>, gt=<folder>)`` (relative to ``data_root``
            or absolute); keys other than ``low`` / ``gt`` are errors. None
            detects the layout (:func:`detect_lowlight_layout`). Defaults
            to None.
        with_gt (bool, optional): with detection, True requires ground
            truth, False ignores it, None uses it when present. Ignored
            with an explicit ``data_prefix``. Defaults to None.
        ann_file (str): optional split file, one stem per line (see
            :class:`PairedImageDataset`). Defaults to ''.
        img_suffixes (Sequence[str]): image suffixes (case-insensitive).
            Defaults to ``('.png', '.jpg', '.jpeg', '.bmp', '.tif',
            '.tiff')``; the official RUAS test reads ``*.png`` only.
        on_unpaired (str): a low-light image without GT (or a GT without
            its image): ``'error'`` raises a ValueError naming them,
            ``'skip'`` drops them with a warning. Defaults to 'error'.
        check_sizes (bool): compare the header sizes of each pair when
            building (otherwise when loading). Defaults to False.
        metainfo (dict, optional): extra meta information. Defaults to None.
        pipeline (Sequence[dict | Callable]): processing pipeline.
            Defaults to ().
        test_mode (bool): test mode. Defaults to False.
        lazy_init (bool): defer indexing. Defaults to False.
        serialize_data (bool): serialise the data list. Defaults to True.
        indices (int | Sequence[int], optional): use only these samples.
            Defaults to None.
        max_refetch (int): re-fetch attempts. Defaults to 1000.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments (object storage); see :class:`PairedImageDataset`.
            Defaults to None.
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 with_gt: Optional[bool] = None,
                 ann_file: str = '',
                 img_suffixes: Sequence[str] = IMG_SUFFIXES,
                 on_unpaired: str = 'error',
                 check_sizes: bool = False,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 serialize_data: bool = True,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 max_refetch: int = 1000,
                 backend_args: Optional[dict] = None) -> None:
        if isinstance(img_suffixes, str):
            img_suffixes = (img_suffixes, )
        if not data_prefix:
            data_prefix = detect_lowlight_layout(
                data_root, with_gt, [s.lower() for s in img_suffixes],
                backend_args)
        data_prefix = OrderedDict(data_prefix)
        if 'low' not in data_prefix or set(data_prefix) - {'low', 'gt'}:
            raise ValueError(
                'LowLightDataset: data_prefix must be dict(low=<folder>) or '
                f'dict(low=<folder>, gt=<folder>), got {dict(data_prefix)}.')
        data_prefix.move_to_end('low', last=False)
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            ann_file=ann_file,
            img_suffixes=img_suffixes,
            on_unpaired=on_unpaired,
            check_sizes=check_sizes,
            metainfo=metainfo,
            pipeline=pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            serialize_data=serialize_data,
            indices=indices,
            max_refetch=max_refetch,
            backend_args=backend_args)

    @property
    def with_gt(self) -> bool:
        """Whether the samples have ground truth."""
        return 'gt' in self.modalities
