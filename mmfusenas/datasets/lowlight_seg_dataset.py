"""ACDC adverse-condition (night) semantic segmentation."""
from typing import List, Optional

from mmengine import fileio
from mmengine.logging import MMLogger
from mmseg.datasets import CityscapesDataset

from mmfusenas.registry import DATASETS
from .paired_image_dataset import listing


@DATASETS.register_module()
class ACDCDataset(CityscapesDataset):
    """One condition of ACDC: mmseg's ``CityscapesDataset`` on the layout
    ``rgb_anon/<condition>/<split>/<seq>/<name>_rgb_anon.png`` +
    ``gt/<condition>/<split>/<seq>/<name>_gt_labelTrainIds.png``.

    ``test_mode=True`` without label folder: no ``seg_map_path``.

    Args:
        condition (str): e.g. ``'night'``. Defaults to 'night'.
        split (str): e.g. ``'train'``, ``'val'``. Defaults to 'train'.
        data_prefix (dict, optional): ``dict(img_path=..., seg_map_path=...)``;
            None: the folders above.
        img_suffix, seg_map_suffix (str): file suffixes.
        **kwargs: :class:`~mmseg.datasets.BaseSegDataset` arguments.
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
                                 f"(e.g. 'night' / 'train'), got {value!r}.")
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
        """The mmseg data infos, checked (every image has its label map)."""
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
                f'{self.ann_file!r} do not exist:\n' + listing(no_img))
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
                'mirroring the image folder):\n' + listing(missing))
        return data_list
