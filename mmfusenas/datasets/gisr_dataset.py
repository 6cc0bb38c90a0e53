"""Guided depth super-resolution (RGB-D) pairs: ``RGB/`` + ``Depth/``
(optionally ``DepthLR/``), paired by :func:`sample_id`."""
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence

from mmengine import fileio
from mmengine.dataset import BaseDataset

from mmfusenas.registry import DATASETS
from .paired_image_dataset import list_files

#: tags removed from file stems to get the sample id
RGB_TAGS = ('_output_color', '_ouput_color', '_RGB', '_color')
DEPTH_TAGS = ('_output_depth', '_HR_gt', '_depth')
LR_TAGS = ('_LR_fill_depth', '_LR')
RGB_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
DEPTH_SUFFIXES = ('.png', '.npy', '.tif', '.tiff')
GISR_DATA_HINT = (
    'GISR layout: <data_root>/RGB/ and <data_root>/Depth/ (see '
    'docs/methods/dcnas.md). For the toy RGB-D data run `python '
    'tools/misc/make_toy_rgbd.py data/toy_rgbd`; NYU v2 comes from '
    '`tools/dataset_converters/nyu_mat_to_gisr.py`.')


def sample_id(stem: str, tags: Sequence[str]) -> str:
    """Stem without the first matching layout tag at its end."""
    for tag in tags:
        if stem.endswith(tag):
            return stem[:-len(tag)]
    return stem


def _index(folder: str,
           suffixes: Sequence[str],
           tags: Sequence[str],
           what: str,
           backend_args: Optional[dict] = None) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for path in list_files(folder, suffixes, backend_args):
        name = osp.basename(path)
        sid = sample_id(osp.splitext(name)[0], tags)
        if sid in out:
            raise ValueError(f'GISRDataset: two {what} files for sample '
                             f'{sid!r} in {folder}: {osp.basename(out[sid])}'
                             f' and {name}')
        out[sid] = path
    return out


def _check_partners(rgbs: dict, others: dict, where: str, what: str,
                    tags: Sequence[str]) -> None:
    """ValueError naming the ids of ``rgbs`` / ``others`` without a partner."""
    lonely = sorted(set(rgbs) ^ set(others))
    if lonely:
        raise ValueError(
            f'GISRDataset: samples without a partner in {where}: '
            f'{lonely[:8]} (RGB ids without {what} and {what} ids without '
            'RGB); file names must pair up after removing the layout tags '
            f'{RGB_TAGS} / {tuple(tags)}')


@DATASETS.register_module()
class GISRDataset(BaseDataset):
    """RGB + depth pairs (optionally real LR depth) for guided depth SR.

    Files pair by sample id (the stem without its layout tag); depth keeps
    its stored unit.

    Args:
        data_root (str): the split folder.
        rgb_dir, depth_dir (str): Default to 'RGB', 'Depth'.
        lr_dir (str, optional): real LR depth folder, used when present;
            then every sample needs its LR file. Defaults to 'DepthLR'.
        split_file (str, optional): text file of sample ids.
        repeat (int): repeat the list. Defaults to 1.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
        **kwargs: :class:`~mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO = dict(task='guided depth super-resolution')

    def __init__(self,
                 data_root: str,
                 rgb_dir: str = 'RGB',
                 depth_dir: str = 'Depth',
                 lr_dir: Optional[str] = 'DepthLR',
                 split_file: Optional[str] = None,
                 repeat: int = 1,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        self.backend_args = backend_args
        self.rgb_dir, self.depth_dir, self.lr_dir = rgb_dir, depth_dir, lr_dir
        self.split_file = split_file
        if repeat < 1:
            raise ValueError(f'repeat must be >= 1, got {repeat}')
        self.repeat = repeat
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        rgb_dir = osp.join(root, self.rgb_dir)
        depth_dir = osp.join(root, self.depth_dir)
        args = self.backend_args
        for folder in (rgb_dir, depth_dir):
            if not fileio.isdir(folder, backend_args=args):
                raise FileNotFoundError(
                    f'GISRDataset: {folder} is not a folder. '
                    f'{GISR_DATA_HINT}')
        rgbs = _index(rgb_dir, RGB_SUFFIXES, RGB_TAGS, 'RGB', args)
        depths = _index(depth_dir, DEPTH_SUFFIXES, DEPTH_TAGS, 'depth', args)
        if not rgbs:
            raise ValueError(f'GISRDataset: no images in {rgb_dir}. '
                             f'{GISR_DATA_HINT}')
        _check_partners(rgbs, depths, root, 'depth', DEPTH_TAGS)
        lrs: Dict[str, str] = {}
        lr_dir = osp.join(root, self.lr_dir) if self.lr_dir else None
        if lr_dir and fileio.isdir(lr_dir, backend_args=args):
            # with the LR folder every sample needs its real LR depth
            lrs = _index(lr_dir, DEPTH_SUFFIXES, LR_TAGS, 'LR', args)
            _check_partners(rgbs, lrs, lr_dir, 'LR depth', LR_TAGS)
        ids = sorted(rgbs)
        if self.split_file is not None:
            path = self.split_file if osp.isabs(self.split_file) else \
                osp.join(root, self.split_file)
            if not fileio.isfile(path, backend_args=args):
                raise FileNotFoundError(f'GISRDataset: split_file {path} '
                                        'not found')
            try:
                text = fileio.get_text(path, backend_args=args)
            except UnicodeDecodeError as err:
                raise ValueError(f'GISRDataset: split_file {path} is not '
                                 f'UTF-8 text ({err})') from None
            wanted = [ln.strip() for ln in text.splitlines() if ln.strip()]
            repeated = sorted(i for i, n in Counter(wanted).items() if n > 1)
            if repeated:
                raise ValueError(f'GISRDataset: split_file {path} lists ids '
                                 f'more than once: {repeated[:8]}')
            absent = [i for i in wanted if i not in rgbs]
            if absent:
                raise ValueError(f'GISRDataset: ids of {path} with no pair '
                                 f'in {root}: {absent[:8]}')
            ids = wanted
        infos = [
            dict(
                sample_id=i,
                rgb_path=rgbs[i],
                depth_path=depths[i],
                lr_path=lrs.get(i)) for i in ids
        ]
        return infos * self.repeat
