"""Registered image pairs with semantic label maps (MSRS, MFNet, toy); see
``docs/user_guides/det_seg_datasets.md``."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine import fileio
from mmengine.logging import MMLogger
from mmseg.datasets import BaseSegDataset

from mmfusenas.registry import DATASETS
from .paired_image_dataset import (IMG_SUFFIXES, PairedImageDataset,
                                   check_choice, data_hint, listing,
                                   pipeline_scope)

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


@DATASETS.register_module()
class PairedSegDataset(BaseSegDataset, PairedImageDataset):
    """Paired modality images with one semantic label map per sample.

    mmseg's ``BaseSegDataset`` arguments, but ``data_prefix`` maps each
    modality to its folder, paired by stem as by :class:`PairedImageDataset`
    (its ``img_suffixes``, ``on_unpaired``, ``check_sizes``, ``ann_file``
    apply); each sample needs ``seg_map_dir/<stem><seg_map_suffix>``, an
    8-bit (or palette) PNG of class indices. Defaults fit MSRS; MFNet takes
    ``img_channels=MFNET_CHANNELS``. ``metainfo['classes']`` defaults to
    :data:`MFNET_CLASSES`; without ``palette`` mmseg's seeded one is used.

    Args:
        seg_map_dir (str): Label folder, relative to ``data_root`` or
            absolute. Defaults to 'Segmentation_labels'.
        img_channels (dict[str, Sequence[int]], optional): Modality ->
            channel indices (OpenCV order) of a file holding several
            modalities, copied into every data-info. Defaults to None.
        label_map (dict[int, int], optional): raw value -> label after
            ``reduce_zero_label`` (given, not derived from the classes).
        on_missing_ann (str): A sample without label map: ``'error'``, or
            ``'skip'`` (dropped, one warning). Defaults to 'error'.
        on_orphan_ann (str): A label map of no sample: ``'error'``, or
            ``'ignore'`` (counted in the log; always with a split file).
            Defaults to 'error'.
    """

    METAINFO: dict = dict(classes=MFNET_CLASSES, palette=MFNET_PALETTE)

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 seg_map_dir: str = 'Segmentation_labels',
                 seg_map_suffix: str = '.png',
                 img_channels: Optional[Dict[str, Sequence[int]]] = None,
                 label_map: Optional[Dict[int, int]] = None,
                 ignore_index: int = 255,
                 img_suffixes: Sequence[str] = IMG_SUFFIXES,
                 on_unpaired: str = 'error',
                 check_sizes: bool = False,
                 on_missing_ann: str = 'error',
                 on_orphan_ann: str = 'error',
                 metainfo: Optional[dict] = None,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        check_choice('PairedSegDataset', 'on_missing_ann', on_missing_ann,
                     ('error', 'skip'))
        check_choice('PairedSegDataset', 'on_orphan_ann', on_orphan_ann,
                     ('error', 'ignore'))
        if 'img_suffix' in kwargs or 'seg_map_path' in (data_prefix or {}):
            raise ValueError(
                'PairedSegDataset: data_prefix maps each modality to its '
                'image folder (images: img_suffixes), the label folder is '
                "seg_map_dir; mmseg's img_suffix and data_prefix "
                'seg_map_path have no meaning here.')
        if not isinstance(ignore_index, int) or not 0 <= ignore_index <= 255:
            raise ValueError('PairedSegDataset: ignore_index must be an int '
                             f'in [0, 255], got {ignore_index!r}.')
        self._label_map = dict(label_map or {}) or None
        if not all(
                isinstance(k, int) and isinstance(v, int) and 0 <= k <= 255
                and 0 <= v <= 255 for k, v in (label_map or {}).items()):
            raise ValueError('PairedSegDataset: label_map must map ints in '
                             f'[0, 255] to ints in [0, 255], got {label_map}.')
        prefix, metainfo = self._init_pairing(data_root, data_prefix,
                                              img_suffixes, on_unpaired,
                                              check_sizes, metainfo,
                                              backend_args)
        unknown = sorted(set(img_channels or {}) - set(self.modalities))
        if unknown:
            raise ValueError(
                f'PairedSegDataset: img_channels names {unknown}, '
                f'which are not modalities {self.modalities}.')
        self.img_channels = None if img_channels is None else {
            m: tuple(c)
            for m, c in img_channels.items()
        }
        classes = metainfo.get('classes', MFNET_CLASSES)
        palette = metainfo.setdefault(  # [] -> mmseg's seeded palette
            'palette', [] if 'classes' in metainfo else MFNET_PALETTE)
        if palette and len(palette) != len(classes):
            raise ValueError(
                f'PairedSegDataset: metainfo palette has {len(palette)} '
                f'colours for {len(classes)} classes; expected one RGB '
                'triple per class.')
        self.seg_map_dir = osp.join(data_root, seg_map_dir)
        self.on_missing_ann, self.on_orphan_ann = on_missing_ann, on_orphan_ann
        with pipeline_scope():
            super().__init__(
                data_root=data_root,
                data_prefix=prefix,
                metainfo=metainfo,
                seg_map_suffix=seg_map_suffix,
                ignore_index=ignore_index,
                backend_args=backend_args,
                **kwargs)
        self._metainfo['ignore_index'] = ignore_index

    def get_label_map(self, new_classes=None) -> Optional[Dict[int, int]]:
        """The given ``label_map`` (mmseg derives it from the classes)."""
        return self._label_map

    def load_data_list(self) -> List[dict]:
        """Pair the modality folders and attach every sample's label map
        (``seg_map_path`` and the label options); missing and orphan maps
        as configured."""
        data_list = PairedImageDataset.load_data_list(self)
        folder, args, suffix = self.seg_map_dir, self.backend_args, \
            self.seg_map_suffix
        if not fileio.isdir(folder, backend_args=args):
            raise FileNotFoundError(
                f'PairedSegDataset: label folder {folder!r} does not exist; '
                f'expected one <stem>{suffix} file per sample (seg_map_dir). '
                + data_hint(folder))
        files = {
            name[:len(name) - len(suffix)]:
            fileio.join_path(folder, name, backend_args=args)
            for name in fileio.list_dir_or_file(
                folder, list_dir=False, backend_args=args) if
            name.lower().endswith(suffix.lower()) and not name.startswith('.')
        }
        stems = {info['stem'] for info in data_list}
        missing = sorted(stems - set(files))
        extra = sorted(set(files) - stems)
        logger = MMLogger.get_current_instance()
        if missing:
            what = (f'{len(missing)} sample(s) have no annotation file '
                    f'<stem>{suffix} in {folder!r}')
            listed = listing([repr(s) for s in missing])
            if self.on_missing_ann == 'error':
                raise ValueError(
                    f'PairedSegDataset: {what}; add them, or set '
                    f"on_missing_ann ('skip' drops those samples):\n{listed}")
            logger.warning(f"PairedSegDataset: on_missing_ann='skip' drops "
                           f'them: {what}:\n{listed}')
        if extra and not self.ann_file and self.on_orphan_ann == 'error':
            raise ValueError(
                f'PairedSegDataset: {len(extra)} label map(s) in {folder!r} '
                'have no paired image (an annotation for a missing image); '
                'fix the data, or, when the folder also serves other splits, '
                "give a split file (ann_file) or set on_orphan_ann='ignore':"
                '\n' + listing([files[s] for s in extra]))
        if extra:
            logger.info(f'PairedSegDataset: {len(extra)} label map(s) in '
                        f'{folder!r} belong to no sample of this dataset '
                        '(other split / unpaired) and are not used.')
        num_classes = len(self._metainfo['classes'])
        common = dict(
            reduce_zero_label=self.reduce_zero_label,
            label_map=self.label_map,
            ignore_index=self.ignore_index,
            num_classes=num_classes)
        if self.img_channels is not None:
            common['img_channels'] = self.img_channels
        kept = [
            dict(info, seg_map_path=files[info['stem']], **common)
            for info in data_list if info['stem'] in files
        ]
        if not kept:
            raise ValueError(
                f'PairedSegDataset: no sample has a label map in {folder!r}.')
        logger.info(f'PairedSegDataset: {len(kept)} samples with label maps '
                    f'from {folder!r}; {num_classes} classes.')
        return kept
