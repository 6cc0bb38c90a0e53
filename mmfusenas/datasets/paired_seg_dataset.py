"""Registered image pairs with semantic label maps (MSRS, MFNet, toy).

:class:`PairedSegDataset` pairs the modality folders exactly like
:class:`~mmfusenas.datasets.PairedImageDataset` and adds the label map of
every stem, in MMSegmentation's data-info convention::

    dict(img_path={'ir': ..., 'vi': ...}, stem='00001D', modalities=(...),
         seg_map_path='.../Segmentation_labels/00001D.png',
         reduce_zero_label=False, label_map=None, ignore_index=255,
         num_classes=9)

The map is read by
:class:`~mmfusenas.datasets.transforms.LoadPairedAnnotations` with
``with_seg=True``. See ``docs/user_guides/det_seg_datasets.md``.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine import fileio
from mmengine.logging import MMLogger

from mmfusenas.registry import DATASETS
from .paired_image_dataset import (PairedImageDataset, _listing,
                                   check_modality_names)

#: The 9 classes of MFNet and MSRS (label values 0-8).
MFNET_CLASSES = ('unlabelled', 'car', 'person', 'bike', 'curve', 'car_stop',
                 'guardrail', 'color_cone', 'bump')
#: The MFNet / RTFNet visualisation palette (RGB) of :data:`MFNET_CLASSES`.
MFNET_PALETTE = [[0, 0, 0], [64, 0, 128], [64, 64, 0], [0, 128, 192],
                 [0, 0, 192], [128, 128, 0], [64, 64, 128], [192, 128, 128],
                 [192, 64, 0]]
#: ``img_channels`` of MFNet's 4-channel RGB-T PNGs (OpenCV order B, G, R,
#: thermal): visible = the colour channels, infrared = the 4th.
MFNET_CHANNELS = dict(vi=(0, 1, 2), ir=(3, ))
MISSING_SEG = ('error', 'skip')
ORPHAN_ANN = ('error', 'ignore')


def match_ann_files(owner: str, data_list: List[dict], folder: str,
                    suffix: str, on_missing: str, strict: bool,
                    backend_args: Optional[dict] = None
                    ) -> Tuple[Dict[str, str], List[str], List[str]]:
    """Match one annotation file per sample stem in ``folder``.

    Args:
        owner (str): Class name for messages.
        data_list (list[dict]): Paired samples (with ``stem``).
        folder (str): Folder of ``<stem><suffix>`` annotation files.
        suffix (str): Annotation suffix, compared case-insensitively.
        on_missing (str): ``'error'`` raises for samples without a file;
            otherwise they are returned.
        strict (bool): Raise for annotation files whose stem is not a
            sample (an annotation for a missing image); otherwise return
            them.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments of ``folder``. Defaults to None (inferred).

    Returns:
        tuple: (stem -> file, stems without a file, stems of unused files).

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        ValueError: as described for ``on_missing`` and ``strict``.
    """
    if not fileio.isdir(folder, backend_args=backend_args):
        raise FileNotFoundError(
            f'{owner}: annotation folder {folder!r} does not exist; expected '
            f'one <stem>{suffix} file per sample.')
    files = {}
    for name in fileio.list_dir_or_file(
            folder, list_dir=False, backend_args=backend_args):
        stem, ext = osp.splitext(name)
        path = fileio.join_path(folder, name, backend_args=backend_args)
        if name.startswith('.') or ext.lower() != suffix:
            continue
        files[stem] = path
    stems = {info['stem'] for info in data_list}
    missing = sorted(stems - set(files))
    extra = sorted(set(files) - stems)
    if missing and on_missing == 'error':
        raise ValueError(
            f'{owner}: {len(missing)} sample(s) have no annotation file '
            f'<stem>{suffix} in {folder!r}; add them, or set on_missing_ann '
            "('skip' drops those samples):\n" +
            _listing([repr(s) for s in missing]))
    if extra and strict:
        raise ValueError(
            f'{owner}: {len(extra)} annotation file(s) in {folder!r} have '
            'no paired image (an annotation for a missing image); fix the '
            'data, or, when the folder also serves other splits, give a '
            "split file (ann_file) or set on_orphan_ann='ignore':\n" +
            _listing([files[s] for s in extra]))
    return files, missing, extra


def voc_palette(num: int) -> List[List[int]]:
    """The PASCAL VOC colour map: ``num`` distinct RGB colours.

    Args:
        num (int): Number of colours.

    Returns:
        list[list[int]]: ``num`` ``[r, g, b]`` colours; colour 0 is black.
    """
    ids = np.arange(num)
    rgb = np.zeros((num, 3), np.int64)
    for bit in range(8):
        for channel in range(3):
            rgb[:, channel] |= ((ids >> (3 * bit + channel)) & 1) << (7 - bit)
    return rgb.tolist()


@DATASETS.register_module()
class PairedSegDataset(PairedImageDataset):
    """Paired modality images with one semantic label map per sample.

    The images are indexed as by :class:`PairedImageDataset`; each sample
    needs ``seg_map_dir/<stem><seg_map_suffix>``, an 8-bit single-channel
    (or palette) PNG of class indices. Layouts:

    - MSRS: ``Infrared/``, ``Visible/``, ``Segmentation_labels/`` (the
      defaults: ``data_prefix`` is auto-detected, classes 0-8 =
      :data:`MFNET_CLASSES`).
    - the toy set: ``ir/``, ``vi/``, ``masks/`` (``seg_map_dir='masks'``,
      classes ``background, person, car, bicycle, cone``, 255 = ignore,
      ``ann_file='splits/train.txt'``).
    - MFNet: ``images/`` (one 4-channel RGB-T PNG per sample) and
      ``labels/``: ``data_prefix=dict(vi='images', ir='images')``,
      ``img_channels=MFNET_CHANNELS`` (both modalities read the same file;
      :class:`~mmfusenas.datasets.transforms.LoadPairedImages` decodes it
      once and takes the B, G, R channels as the visible image -- converted
      to RGB -- and the 4th as the infrared one), ``seg_map_dir='labels'``.

    Labels, as mmseg: the raw values go through ``reduce_zero_label`` (0 ->
    255, ``v`` -> ``v - 1``) and then ``label_map`` (raw value -> label,
    overriding); afterwards every value must be a class index or
    ``ignore_index`` (checked when loading, naming the file).

    Args:
        seg_map_dir (str): Folder of the label maps, relative to
            ``data_root`` or absolute. Defaults to 'Segmentation_labels'.
        seg_map_suffix (str): Suffix of the label maps (case-insensitive).
            Defaults to '.png'.
        img_channels (dict[str, Sequence[int]], optional): Modality ->
            channel indices (OpenCV order) to take from its file, for files
            holding several modalities (MFNet: :data:`MFNET_CHANNELS`).
            Copied into every data-info. Defaults to None.
        reduce_zero_label (bool): Treat label 0 as ignored and shift the
            others down by one (mmseg). Defaults to False.
        ignore_index (int): Label that the losses and metrics ignore (mmseg
            uses 255); it is recorded for the range check and in
            ``metainfo``. Defaults to 255.
        label_map (dict[int, int], optional): Raw pixel value -> label,
            applied on top of ``reduce_zero_label``, e.g. ``{255: 1}`` for
            0/255 binary masks. Values in [0, 255]. Defaults to None.
        on_missing_ann (str): A sample without label map: ``'error'``
            raises listing them; ``'skip'`` drops them with one warning.
            Defaults to 'error'.
        on_orphan_ann (str): A label map whose stem is no sample (an
            annotation for a missing image): ``'error'`` raises listing
            them; ``'ignore'`` leaves them unused with an info log of their
            number. With a split file (``ann_file``) they are always
            ignored. Defaults to 'error'.
        **kwargs: The other arguments of :class:`PairedImageDataset`
            (``data_root``, ``data_prefix``, ``ann_file`` = optional split
            file, ``img_suffixes``, ``on_unpaired``, ``check_sizes``,
            ``metainfo``, ``pipeline``, ``test_mode``, ...). ``metainfo``
            may set ``classes`` (default :data:`MFNET_CLASSES`) and
            ``palette`` (one RGB triple per class; default
            :data:`MFNET_PALETTE` for the default classes, else
            :func:`voc_palette`).
    """

    METAINFO: dict = dict(
        modalities=(), classes=MFNET_CLASSES, palette=MFNET_PALETTE)

    def __init__(self,
                 seg_map_dir: str = 'Segmentation_labels',
                 seg_map_suffix: str = '.png',
                 img_channels: Optional[Dict[str, Sequence[int]]] = None,
                 reduce_zero_label: bool = False,
                 ignore_index: int = 255,
                 label_map: Optional[Dict[int, int]] = None,
                 on_missing_ann: str = 'error',
                 on_orphan_ann: str = 'error',
                 **kwargs) -> None:
        if on_missing_ann not in MISSING_SEG:
            raise ValueError(f'PairedSegDataset: on_missing_ann must be one '
                             f'of {MISSING_SEG}, got {on_missing_ann!r}.')
        if on_orphan_ann not in ORPHAN_ANN:
            raise ValueError(f'PairedSegDataset: on_orphan_ann must be one '
                             f'of {ORPHAN_ANN}, got {on_orphan_ann!r}.')
        if not isinstance(ignore_index, int) or not 0 <= ignore_index <= 255:
            raise ValueError('PairedSegDataset: ignore_index must be an int '
                             f'in [0, 255], got {ignore_index!r}.')
        label_map = dict(label_map or {})
        if not all(
                isinstance(k, int) and isinstance(v, int) and 0 <= k <= 255
                and 0 <= v <= 255 for k, v in label_map.items()):
            raise ValueError('PairedSegDataset: label_map must map ints in '
                             f'[0, 255] to ints in [0, 255], got {label_map}.')
        meta = dict(kwargs.get('metainfo') or {})
        palette = meta.get('palette')
        if 'classes' in meta and palette is None:
            palette = voc_palette(len(meta['classes']))
        if palette is not None and 'classes' in meta and \
                len(palette) != len(meta['classes']):
            raise ValueError(
                f'PairedSegDataset: metainfo palette has {len(palette)} '
                f'colours for {len(meta["classes"])} classes; expected one '
                'RGB triple per class.')
        self.seg_map_dir = osp.join(kwargs.get('data_root', ''), seg_map_dir)
        self.seg_map_suffix = seg_map_suffix.lower()
        self.img_channels = (None if img_channels is None else
                             {m: tuple(c)
                              for m, c in img_channels.items()})
        self.reduce_zero_label = reduce_zero_label
        self.ignore_index = ignore_index
        self.label_map = label_map or None
        self.on_missing_ann = on_missing_ann
        self.on_orphan_ann = on_orphan_ann
        super().__init__(**kwargs)
        check_modality_names('PairedSegDataset', self.modalities)
        if self.img_channels is not None:
            unknown = [
                m for m in self.img_channels if m not in self.modalities
            ]
            if unknown:
                raise ValueError(
                    f'PairedSegDataset: img_channels names {unknown}, which '
                    f'are not modalities {self.modalities}.')
        if palette is not None:
            self._metainfo['palette'] = palette
        self._metainfo.update(
            reduce_zero_label=reduce_zero_label,
            ignore_index=ignore_index,
            label_map=self.label_map)

    def load_data_list(self) -> List[dict]:
        """Pair the modality folders and attach every sample's label map.

        Returns:
            list[dict]: One data-info per sample (see the module doc).
        """
        data_list = super().load_data_list()
        folder = self.seg_map_dir
        strict = not self.ann_file and self.on_orphan_ann == 'error'
        files, missing, extra = match_ann_files(
            'PairedSegDataset', data_list, folder, self.seg_map_suffix,
            self.on_missing_ann, strict, backend_args=self.backend_args)
        logger = MMLogger.get_current_instance()
        if missing:
            logger.warning(
                f"PairedSegDataset: on_missing_ann='skip' drops "
                f'{len(missing)} sample(s) without label map in {folder!r}:'
                '\n' + _listing([repr(s) for s in missing]))
        if extra:
            logger.info(
                f'PairedSegDataset: {len(extra)} label map(s) in {folder!r} '
                'belong to no sample of this dataset (other split / '
                'unpaired) and are not used.')
        num_classes = len(self._metainfo['classes'])
        kept = []
        for info in data_list:
            if info['stem'] not in files:
                continue
            info.update(
                seg_map_path=files[info['stem']],
                reduce_zero_label=self.reduce_zero_label,
                label_map=self.label_map,
                ignore_index=self.ignore_index,
                num_classes=num_classes)
            if self.img_channels is not None:
                info['img_channels'] = self.img_channels
            kept.append(info)
        if not kept:
            raise ValueError(
                f'PairedSegDataset: no sample has a label map in {folder!r}.')
        logger.info(f'PairedSegDataset: {len(kept)} samples with label maps '
                    f'from {folder!r}; {num_classes} classes.')
        return kept
