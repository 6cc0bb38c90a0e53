"""ACDC adverse-condition (night) semantic segmentation.

:class:`ACDCDataset` is MMSegmentation's
:class:`~mmseg.datasets.CityscapesDataset` (19 Cityscapes train-id classes,
255 ignore) on the ACDC folder layout, registered in
:data:`mmfusenas.registry.DATASETS` and read by mmseg's own pipeline::

    ACDC/
        rgb_anon/<condition>/<split>/<seq>/<name>_rgb_anon.png
        gt/<condition>/<split>/<seq>/<name>_gt_labelTrainIds.png

The plain Cityscapes layout is served by mmseg's ``CityscapesDataset``
directly. See ``docs/user_guides/restoration_datasets.md``.
"""
from typing import List, Optional

from mmengine import fileio
from mmengine.logging import MMLogger
from mmseg.datasets import CityscapesDataset

from mmfusenas.registry import DATASETS
from .paired_image_dataset import _listing

#: ACDC's adverse conditions.
ACDC_CONDITIONS = ('fog', 'night', 'rain', 'snow')


@DATASETS.register_module()
class ACDCDataset(CityscapesDataset):
    """ACDC (Adverse Conditions Dataset with Correspondences), one condition.

    Images and label maps are found recursively below
    ``rgb_anon/<condition>/<split>`` and ``gt/<condition>/<split>`` (one
    folder per recording sequence, e.g. ``GOPR0351``), sorted by path, as
    mmseg's ``BaseSegDataset`` does; ``ann_file`` may list the samples
    instead (``<seq>/<name>`` per line, without suffix, mmseg's
    convention). Label maps hold Cityscapes train ids (0-18, 255 ignore).

    Checks when the dataset is built: the image folder exists and holds at
    least one ``*<img_suffix>`` file; every image has its label map
    (``FileNotFoundError`` listing the missing files). With
    ``test_mode=True`` and no label folder at all (ACDC's ``test`` split)
    the samples carry no ``seg_map_path``; a pipeline for them must not
    contain ``LoadAnnotations``.

    Example::

        dict(type='ACDCDataset', data_root='data/ACDC', condition='night',
             split='train',
             pipeline=[dict(type='mmseg.LoadImageFromFile'),
                       dict(type='mmseg.LoadAnnotations'),
                       dict(type='mmseg.RandomCrop', crop_size=(512, 512)),
                       dict(type='mmseg.PackSegInputs')])

    Args:
        condition (str): ACDC condition, one of ``'fog'``, ``'night'``,
            ``'rain'``, ``'snow'`` (other names are accepted for custom
            data). Defaults to 'night'.
        split (str): ``'train'``, ``'val'``, ``'test'`` (or e.g.
            ``'train_ref'``). Defaults to 'train'.
        data_prefix (dict, optional): ``dict(img_path=..., seg_map_path=...)``
            relative to ``data_root``; None builds
            ``dict(img_path='rgb_anon/<condition>/<split>',
            seg_map_path='gt/<condition>/<split>')``. Defaults to None.
        img_suffix (str): Defaults to '_rgb_anon.png'.
        seg_map_suffix (str): Defaults to '_gt_labelTrainIds.png'.
        **kwargs: Arguments of :class:`~mmseg.datasets.BaseSegDataset`
            (``data_root``, ``ann_file``, ``metainfo``, ``pipeline``,
            ``test_mode``, ``reduce_zero_label``, ``indices``, ...).
    """

    def __init__(self,
                 condition: str = 'night',
                 split: str = 'train',
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '_rgb_anon.png',
                 seg_map_suffix: str = '_gt_labelTrainIds.png',
                 **kwargs) -> None:
        for name, value in (('condition', condition), ('split', split)):
            if not isinstance(value, str) or not value or '/' in value:
                raise ValueError(f'ACDCDataset: {name} must be a folder name '
                                 f'(e.g. {ACDC_CONDITIONS[1]!r} / '
                                 f"'train'), got {value!r}.")
        self.condition = condition
        self.split = split
        if data_prefix is None:
            data_prefix = dict(
                img_path=f'rgb_anon/{condition}/{split}',
                seg_map_path=f'gt/{condition}/{split}')
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the samples and check that every image has its label map.

        Returns:
            list[dict]: mmseg data infos (``img_path``, ``seg_map_path``,
            ``label_map``, ``reduce_zero_label``, ``seg_fields``).
        """
        img_dir = self.data_prefix.get('img_path', None)
        seg_dir = self.data_prefix.get('seg_map_path', None)
        args = self.backend_args
        if not img_dir or not fileio.isdir(img_dir, backend_args=args):
            raise FileNotFoundError(
                f'ACDCDataset: image folder {img_dir!r} does not exist '
                f'(data_root + rgb_anon/{self.condition}/{self.split} by '
                'default); expected <seq>/<name>' + self.img_suffix +
                ' files below it.')
        no_gt = not seg_dir or not fileio.isdir(seg_dir, backend_args=args)
        if no_gt and not self.test_mode:
            raise FileNotFoundError(
                f'ACDCDataset: label folder {seg_dir!r} does not exist '
                f'(data_root + gt/{self.condition}/{self.split} by default); '
                'it is required outside test_mode.')
        if no_gt:
            # mmseg would still attach (missing) seg_map_paths
            self.data_prefix.pop('seg_map_path', None)
        try:
            data_list = super().load_data_list()
        finally:
            if no_gt and seg_dir is not None:
                self.data_prefix['seg_map_path'] = seg_dir
        if not data_list:
            raise ValueError(
                f'ACDCDataset: no *{self.img_suffix} images in {img_dir!r}' +
                (f' listed by {self.ann_file!r}.' if self.ann_file else '.'))
        no_img = [
            info['img_path'] for info in data_list
            if not fileio.isfile(info['img_path'], backend_args=args)
        ]
        if no_img:
            raise FileNotFoundError(
                f'ACDCDataset: {len(no_img)} image(s) listed by '
                f'{self.ann_file!r} do not exist:\n' + _listing(no_img))
        if no_gt:
            MMLogger.get_current_instance().info(
                f'ACDCDataset: no label folder {seg_dir!r}; {len(data_list)} '
                'image(s) in test mode without label maps.')
            return data_list
        missing = [
            info['seg_map_path'] for info in data_list
            if not fileio.isfile(info['seg_map_path'], backend_args=args)
        ]
        if missing:
            raise FileNotFoundError(
                f'ACDCDataset: {len(missing)} image(s) have no label map '
                f'(expected <name>{self.seg_map_suffix} under {seg_dir!r}, '
                'mirroring the image folder):\n' + _listing(missing))
        return data_list
