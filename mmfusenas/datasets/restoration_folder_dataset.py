"""Restoration datasets: degraded images paired with clean images by stem
(folders or named layouts), and clean images degraded on the fly."""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine import fileio
from mmengine.dataset import BaseDataset, Compose

from mmfusenas.registry import DATASETS
from .deblur_synthesis import KERNEL_EXTS, normalize_kernel
from .paired_image_dataset import (IMG_SUFFIXES, PairedImageDataset,
                                   list_files, pipeline_scope, subfolders)

#: layout name -> ``(input folder, ground-truth folder candidates)`` in
#: order of preference (:func:`detect_paired_layout`)
RESTORATION_LAYOUTS = dict(
    lol=(('low', ('high', )), ('test', ('gt', ))),
    sots=(('hazy', ('clear', 'GT', 'gt')), ),
    rain100=(('rain', ('norain', 'gt')), ('rainy', ('norain', 'gt'))),
    uieb=(('raw-890', ('reference-890', )), ('raw', ('reference', )),
          ('challenging-60', ())))


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def list_images(dirs: Union[str, Sequence[str]],
                backend_args: Optional[dict] = None) -> List[str]:
    """Sorted image files of one or several folders (error when none)."""
    dirs = [dirs] if isinstance(dirs, str) else list(dirs)
    files = []
    for d in dirs:
        if not fileio.isdir(d, backend_args=backend_args):
            raise FileNotFoundError(f'image folder {d} does not exist')
        files += list_files(d, IMG_SUFFIXES, backend_args)
    if not files:
        raise FileNotFoundError(f'no image ({", ".join(IMG_SUFFIXES)}) in '
                                f'{dirs}')
    return files


def detect_paired_layout(
        data_root: str,
        layouts: Sequence[Tuple[str, Sequence[str]]],
        with_gt: Optional[bool] = None,
        img_suffixes: Sequence[str] = IMG_SUFFIXES,
        backend_args: Optional[dict] = None,
        name: str = 'PairedRestorationDataset') -> 'OrderedDict[str, str]':
    """The folders of a restoration layout under ``data_root``: the first
    of ``layouts`` (``(input folder, ground-truth candidates)``) with both
    folders, else the first input folder alone, else ``data_root`` itself
    (``''``) when it holds images.

    Args:
        with_gt (bool, optional): True requires ground truth, False ignores
            it, None uses it when present.

    Returns:
        OrderedDict[str, str]: ``{'low': folder[, 'gt': folder]}``; a
        ValueError listing the sub-folders when nothing is found.
    """
    root = data_root or '.'
    subdirs = subfolders(root, name, backend_args)
    found = [(low, next((g for g in gts if g in subdirs), None))
             for low, gts in layouts if low in subdirs]
    found.sort(key=lambda pair: pair[1] is None)  # complete pairs first
    if found and (found[0][1] or not with_gt):
        low, gt = found[0]
        return OrderedDict(low=low) if gt is None or with_gt is False \
            else OrderedDict(low=low, gt=gt)
    known = ', '.join(low + '/' + (f' + {"|".join(gts)}/' if gts else '')
                      for low, gts in layouts)
    if with_gt:
        raise ValueError(
            f'{name}: with_gt=True but data_root {root!r} has no paired '
            f'layout: it needs one of the folders {[lo for lo, _ in layouts]}'
            f' with its ground truth ({known}); its sub-folders: {subdirs}. '
            'Pass data_prefix=dict(low=..., gt=...) explicitly.')
    if isinstance(img_suffixes, str):
        img_suffixes = (img_suffixes, )
    if list_files(root, tuple(s.lower() for s in img_suffixes), backend_args):
        return OrderedDict(low='')
    raise ValueError(
        f'{name}: no layout ({known}) and no image under data_root {root!r}; '
        f'its sub-folders: {subdirs}. Pass data_prefix=dict(low=...[, '
        'gt=...]) explicitly.')


def gt_stems(stem: str) -> List[str]:
    """Ground-truth stems tried for an input stem: itself, its Rain100 name
    (``rain-001`` -> ``norain-001``), its RESIDE name (``0001_0.8`` ->
    ``0001``)."""
    rain100 = 'no' + stem if stem.startswith('rain-') else stem
    return list(dict.fromkeys([stem, rain100, stem.split('_')[0]]))


@DATASETS.register_module()
class PairedRestorationDataset(PairedImageDataset):
    """Degraded images (``low``) paired with clean images (``gt``) by stem.

    The checks of :class:`PairedImageDataset` apply; with :attr:`NAMED_GT`
    the ground truth may be named by :func:`gt_stems` (unused ground truth
    is allowed).

    Args:
        data_root (str): the split folder. Defaults to ''.
        layout (str): key of :data:`RESTORATION_LAYOUTS` detected when
            ``data_prefix`` is not given. Defaults to 'rain100'.
        data_prefix (dict, optional): ``dict(low=<folder>[, gt=<folder>])``.
        with_gt (bool, optional): for detection: True requires ground truth,
            False ignores it, None uses it when present. Defaults to True.
        color (bool): the default pipeline reads RGB, else gray. Defaults
            to True.
        pipeline (Sequence, optional): None: ``LoadRestorationImages`` +
            ``PackRestorationInputs``.
        **kwargs: other :class:`PairedImageDataset` arguments.
    """

    #: pair by :func:`gt_stems` too (else by identical stems only)
    NAMED_GT = True

    def __init__(self,
                 data_root: str = '',
                 layout: str = 'rain100',
                 data_prefix: Optional[dict] = None,
                 with_gt: Optional[bool] = True,
                 color: bool = True,
                 pipeline: Optional[Sequence] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        if not data_prefix:
            if layout not in RESTORATION_LAYOUTS:
                raise ValueError(f'{name}: unknown layout {layout!r}; known: '
                                 f'{sorted(RESTORATION_LAYOUTS)}')
            data_prefix = detect_paired_layout(
                data_root, RESTORATION_LAYOUTS[layout], with_gt,
                kwargs.get('img_suffixes', IMG_SUFFIXES),
                kwargs.get('backend_args'), name)
        data_prefix = OrderedDict(data_prefix)
        if 'low' not in data_prefix or set(data_prefix) - {'low', 'gt'}:
            raise ValueError(
                f'{name}: data_prefix must be dict(low=<folder>) or '
                f'dict(low=<folder>, gt=<folder>), got {dict(data_prefix)}.')
        data_prefix.move_to_end('low', last=False)
        if pipeline is None:
            pipeline = [
                dict(type='LoadRestorationImages', color=color,
                     backend_args=kwargs.get('backend_args')),
                dict(type='PackRestorationInputs')
            ]
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            pipeline=pipeline,
            **kwargs)

    @property
    def with_gt(self) -> bool:
        """Whether the samples have ground truth."""
        return 'gt' in self.modalities

    def _scan_folder(self, modality: str) -> Dict[str, str]:
        files = super()._scan_folder(modality)
        if modality == 'low':
            self._low_stems = list(files)
        elif self.NAMED_GT:  # key the ground truth by its input's stem
            match = {
                s: next((g for g in gt_stems(s) if g in files), None)
                for s in self._low_stems
            }
            files = {s: files[g] for s, g in match.items() if g is not None}
        return files


class _LayoutDataset(PairedRestorationDataset):
    """:class:`PairedRestorationDataset` of one :attr:`LAYOUT`, with ground
    truth when present and no default pipeline."""

    #: key of :data:`RESTORATION_LAYOUTS`
    LAYOUT = ''

    def __init__(self, data_root='', data_prefix=None, with_gt=None,
                 pipeline=(), **kwargs) -> None:
        super().__init__(data_root, self.LAYOUT, data_prefix, with_gt,
                         pipeline=pipeline, **kwargs)


@DATASETS.register_module()
class LowLightDataset(_LayoutDataset):
    """Low-light images, optionally paired with ground truth of the same
    stem: LOL (``low/`` + ``high/``), RUAS / MIT (``test/`` + ``gt/``) or any
    folder. Pipelines use ``LoadEnhanceImages`` / ``PackEnhanceInputs``.
    Arguments as :class:`PairedRestorationDataset` (``with_gt`` defaults to
    None, ``pipeline`` to ()).
    """

    LAYOUT, NAMED_GT = 'lol', False


@DATASETS.register_module()
class HazeDataset(_LayoutDataset):
    """Hazy / clear pairs (RESIDE): ``hazy/`` + ``clear/`` | ``GT/`` |
    ``gt/``, ``<id>_<k>`` pairing with ``<id>``; as :class:`LowLightDataset`.
    """

    LAYOUT = 'sots'


@DATASETS.register_module()
class UnderwaterDataset(_LayoutDataset):
    """Underwater / reference pairs (UIEB): ``raw-890/`` +
    ``reference-890/`` or ``raw/`` + ``reference/``, identical stems; as
    :class:`LowLightDataset`."""

    LAYOUT, NAMED_GT = 'uieb', False


def _find_kernel(kernels: str,
                 stem: str,
                 backend_args: Optional[dict] = None) -> str:
    if fileio.isfile(kernels, backend_args=backend_args):
        return kernels
    for ext in KERNEL_EXTS:
        path = fileio.join_path(kernels, stem + ext, backend_args=backend_args)
        if fileio.isfile(path, backend_args=backend_args):
            return path
    raise FileNotFoundError(
        f'no kernel for {stem!r} in {kernels}: expected {stem}.<ext> with '
        f'<ext> one of {", ".join(KERNEL_EXTS)} (or pass one kernel file '
        'for every image)')


def _folder_pipeline(color: bool, pad: bool,
                     backend_args: Optional[dict]) -> List[dict]:
    return [
        dict(type='LoadRestorationImages', color=color,
             backend_args=backend_args),
        dict(type='KernelEdgeTaper', pad=pad, backend_args=backend_args),
        dict(type='PackRestorationInputs')
    ]


@DATASETS.register_module()
class RestorationFolderDataset(PairedRestorationDataset):
    """Every image of a folder with its blur kernel and ground truth (the
    dataset of ``tools/deblur.py``).

    Args:
        img_dir (str): folder of degraded images.
        kernels (str, optional): folder of kernels named like the images
            (any of ``KERNEL_EXTS``), or one kernel file for all; the image
            is prepared by ``KernelEdgeTaper``. None: no kernels.
        gt_dir (str, optional): folder of clean images (stems as
            :func:`gt_stems`).
        color (bool): RGB instead of gray. Defaults to False.
        noise_sigma (float, optional): noise level to attach.
        pad (bool): with kernels: edge padding + edgetaper. Defaults to True.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self,
                 img_dir: str,
                 kernels: Optional[str] = None,
                 gt_dir: Optional[str] = None,
                 color: bool = False,
                 noise_sigma: Optional[float] = None,
                 pad: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        if kernels is not None and not fileio.exists(
                kernels, backend_args=backend_args):
            raise FileNotFoundError(f'kernel folder / file {kernels} '
                                    'does not exist')
        self.kernels = kernels
        self.noise_sigma = noise_sigma
        prefix = dict(low=img_dir) if gt_dir is None else dict(
            low=img_dir, gt=gt_dir)
        super().__init__(
            data_prefix=prefix,
            pipeline=_folder_pipeline(color, pad, backend_args),
            test_mode=True,
            backend_args=backend_args)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        for info in data_list:
            if self.kernels is not None:
                info['kernel'] = _find_kernel(self.kernels, info['stem'],
                                              self.backend_args)
            if self.noise_sigma is not None:
                info['noise_sigma'] = float(self.noise_sigma)
        return data_list


def restoration_sample(img_path: str,
                       kernel: Union[None, str, np.ndarray] = None,
                       gt_path: Optional[str] = None,
                       color: bool = False,
                       noise_sigma: Optional[float] = None,
                       pad: bool = True,
                       backend_args: Optional[dict] = None) -> dict:
    """One item of :class:`RestorationFolderDataset` for ``img_path`` (what
    :func:`mmfusenas.apis.inference_model` feeds the model); ``kernel``
    is a file or a 2-D array (normalised), other arguments as the dataset.
    """
    results = dict(img_path=dict(low=img_path), stem=_stem(img_path))
    if gt_path is not None:
        results['img_path']['gt'] = gt_path
    if kernel is not None:
        results['kernel'] = kernel if isinstance(kernel, str) else \
            normalize_kernel(kernel, 'kernel array')
    if noise_sigma is not None:
        results['noise_sigma'] = float(noise_sigma)
    with pipeline_scope():
        pipeline = Compose(_folder_pipeline(color, pad, backend_args))
    return pipeline(results)


class SyntheticRestorationDataset(BaseDataset):
    """Clean images degraded on the fly: the base of the synthetic sets.

    Item ``i`` is image ``i mod N`` of the sorted images of ``img_dirs``.
    The pipeline draws from ``results['rng']``, seeded by ``(seed, i,
    draw)`` with ``draw`` the count of items read (0 with ``fixed=True``),
    or by ``(seed, i)`` when :attr:`REDRAW` is False (test sets).

    Args:
        img_dirs (str | Sequence[str]): image folder(s).
        pipeline (Sequence): the degradation pipeline.
        length (int, optional): items per epoch. Defaults to None (``N``).
        fixed (bool): one draw per index. Defaults to False.
        seed (int): base seed. Defaults to 0.
        metainfo (dict, optional): meta information.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    #: a new draw each time an item is read (else one per index)
    REDRAW = True

    def __init__(self,
                 img_dirs: Union[str, Sequence[str]],
                 pipeline: Sequence,
                 length: Optional[int] = None,
                 fixed: bool = False,
                 seed: int = 0,
                 metainfo: Optional[dict] = None,
                 backend_args: Optional[dict] = None) -> None:
        self.img_dirs = img_dirs
        self.length = None if length is None else int(length)
        self.fixed = fixed
        self.seed = seed
        self.backend_args = backend_args
        self._draws = 0
        with pipeline_scope():
            super().__init__(pipeline=pipeline, serialize_data=False)
        self._metainfo.update(metainfo or {})  # not parsed as file names

    def load_data_list(self) -> List[dict]:
        return [
            dict(img_path=dict(gt=f), stem=_stem(f))
            for f in list_images(self.img_dirs, self.backend_args)
        ]

    def __len__(self) -> int:
        return len(self.data_list) if self.length is None else self.length

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx % len(self.data_list))
        info['sample_idx'] = idx
        return info

    def prepare_data(self, idx: int) -> dict:
        key = [self.seed, idx]
        if self.REDRAW:
            key.append(0 if self.fixed else self._draws)
            self._draws += 1
        info = self.get_data_info(idx)
        info['rng'] = np.random.default_rng(key)
        return self.pipeline(info)
