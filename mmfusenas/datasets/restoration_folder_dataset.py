"""Restoration datasets: degraded images and their clean images.

:class:`PairedRestorationDataset` is the paired folder dataset: an input
folder (``low``) and an optional ground-truth folder (``gt``) matched by file
stem, given as ``data_prefix`` or detected from a named layout
(:data:`RESTORATION_LAYOUTS`). :class:`LowLightDataset`,
:class:`HazeDataset`, :class:`UnderwaterDataset` and
:class:`RestorationFolderDataset` are its layouts and defaults.
:class:`SyntheticRestorationDataset` degrades clean images on the fly; the
degradations are the transforms of
:mod:`~mmfusenas.datasets.transforms.restoration_transforms`.
"""
import os.path as osp
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine import fileio
from mmengine.dataset import BaseDataset, Compose
from mmengine.logging import MMLogger

from mmfusenas.registry import DATASETS
from .deblur_synthesis import KERNEL_EXTS, list_files, normalize_kernel
from .paired_image_dataset import (IMG_SUFFIXES, PairedImageDataset, _listing,
                                   data_hint, pipeline_scope)

IMAGE_EXTS = IMG_SUFFIXES

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
    """Sorted image files of one or several folders (error when none);
    ``backend_args``: :mod:`mmengine.fileio` backend arguments (None: the
    backend is inferred from the path)."""
    dirs = [dirs] if isinstance(dirs, str) else list(dirs)
    files = []
    for d in dirs:
        if not fileio.isdir(d, backend_args=backend_args):
            raise FileNotFoundError(f'image folder {d} does not exist')
        files += list_files(d, IMAGE_EXTS, backend_args)
    if not files:
        raise FileNotFoundError(f'no image ({", ".join(IMAGE_EXTS)}) in '
                                f'{dirs}')
    return files


def detect_paired_layout(
        data_root: str,
        layouts: Sequence[Tuple[str, Sequence[str]]],
        with_gt: Optional[bool] = None,
        img_suffixes: Sequence[str] = IMG_SUFFIXES,
        backend_args: Optional[dict] = None,
        name: str = 'PairedRestorationDataset') -> 'OrderedDict[str, str]':
    """The folders of a restoration layout under ``data_root``.

    Tried in order: the first of ``layouts`` with both folders, the first
    input folder alone, images directly in ``data_root``.

    Args:
        data_root (str): the split folder.
        layouts (Sequence[tuple[str, Sequence[str]]]): ``(input folder,
            ground-truth folder candidates)`` in order of preference.
        with_gt (bool, optional): True requires ground truth, False ignores
            it, None uses it when present. Defaults to None.
        img_suffixes (Sequence[str]): image suffixes (case-insensitive).
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments. Defaults to None (inferred from the path).
        name (str): dataset name for messages.

    Returns:
        OrderedDict[str, str]: ``{'low': folder}`` or ``{'low': ..., 'gt':
        ...}``; ``''`` is ``data_root`` itself.

    Raises:
        FileNotFoundError: ``data_root`` is not a folder.
        ValueError: nothing found; the message lists the sub-folders.
    """
    root = data_root or '.'
    if not fileio.isdir(root, backend_args=backend_args):
        raise FileNotFoundError(f'{name}: data_root {root!r} is not a '
                                f'folder. {data_hint(root)}')
    subdirs = sorted(
        fileio.list_dir_or_file(
            root, list_file=False, backend_args=backend_args))
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
    suffixes = tuple(s.lower() for s in img_suffixes)
    if any(not n.startswith('.') and osp.splitext(n)[1].lower() in suffixes
           for n in fileio.list_dir_or_file(
               root, list_dir=False, backend_args=backend_args)):
        return OrderedDict(low='')
    raise ValueError(
        f'{name}: no layout ({known}) and no image under data_root {root!r}; '
        f'its sub-folders: {subdirs}. Pass data_prefix=dict(low=...[, '
        'gt=...]) explicitly.')


def detect_lowlight_layout(
        data_root: str,
        with_gt: Optional[bool] = None,
        img_suffixes: Sequence[str] = IMG_SUFFIXES,
        backend_args: Optional[dict] = None) -> 'OrderedDict[str, str]':
    """:func:`detect_paired_layout` with the low-light layouts: LOL
    (``{low,high}``), RUAS / MIT (``{test,gt}``)."""
    return detect_paired_layout(data_root, RESTORATION_LAYOUTS['lol'],
                                with_gt, img_suffixes, backend_args,
                                'LowLightDataset')


def gt_stems(stem: str) -> List[str]:
    """The ground-truth stems tried for an input stem, in order: the stem,
    its Rain100 name (``rain-001`` -> ``norain-001``) and its RESIDE name
    (``0001_0.8_0.2`` -> ``0001``)."""
    rain100 = 'no' + stem if stem.startswith('rain-') else stem
    return list(dict.fromkeys([stem, rain100, stem.split('_')[0]]))


@DATASETS.register_module()
class PairedRestorationDataset(PairedImageDataset):
    """Degraded images paired with their clean images by file stem.

    Each entry is ``dict(img_path={'low': ..., 'gt': ...}, stem=...,
    modalities=('low', 'gt'))`` (no ``'gt'`` when unpaired), sorted by stem.
    The checks of :class:`PairedImageDataset` apply (folders exist and hold
    images, unique stems, split files); an input without ground truth is an
    error naming it (``on_unpaired='skip'``: dropped with a warning). With
    :attr:`NAMED_GT` the ground truth may be named by :func:`gt_stems`
    (Rain100, RESIDE), and unused ground truth is allowed. Without
    ``pipeline`` the items are those of :class:`~mmfusenas.models.HQSRestorer`
    (``inputs`` and ``data_samples`` with ``gt_img``, ``stem``).

    Examples::

        PairedRestorationDataset('data/Rain100L/test')         # rain/, norain/
        PairedRestorationDataset('data/SOTS/outdoor', 'sots')  # hazy/, clear/

    Args:
        data_root (str): the split folder. Defaults to ''.
        layout (str): key of :data:`RESTORATION_LAYOUTS` detected when
            ``data_prefix`` is not given. Defaults to 'rain100'.
        data_prefix (dict, optional): ``dict(low=<folder>[, gt=<folder>])``,
            relative to ``data_root`` or absolute. Defaults to None.
        with_gt (bool, optional): for detection: True requires ground truth,
            False ignores it, None uses it when present. Defaults to True.
        color (bool): the default pipeline reads RGB, else gray. Defaults
            to True.
        pipeline (Sequence[dict | Callable], optional): None:
            ``LoadRestorationImages`` + ``PackRestorationInputs``.
        **kwargs: other :class:`PairedImageDataset` arguments (``ann_file``,
            ``img_suffixes``, ``on_unpaired``, ``check_sizes``,
            ``test_mode``, ``backend_args``, ...).
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

    def load_data_list(self) -> List[dict]:
        if not self.NAMED_GT or not self.with_gt:
            return super().load_data_list()
        name = type(self).__name__
        low, gt = self._scan_folder('low'), self._scan_folder('gt')
        stems = sorted(self._read_split() if self.ann_file else low)
        absent = [repr(s) for s in stems if s not in low]
        if absent:
            raise ValueError(
                f'{name}: {len(absent)} stem(s) of split file '
                f'{self.ann_file!r} have no image in '
                f"{self.data_prefix['low']!r}:\n" + _listing(absent))
        data_list, unpaired = [], []
        for stem in stems:
            match = next((s for s in gt_stems(stem) if s in gt), None)
            if match is None:
                unpaired.append(f'{low[stem]} (tried {gt_stems(stem)})')
                continue
            data_list.append(
                dict(
                    img_path=dict(low=low[stem], gt=gt[match]),
                    stem=stem,
                    modalities=self.modalities))
        if unpaired:
            msg = (f'{name}: {len(unpaired)} input image(s) have no ground '
                   f"truth in {self.data_prefix['gt']!r}")
            if self.on_unpaired == 'error':
                raise ValueError(msg + "; set on_unpaired='skip' to drop "
                                 'them:\n' + _listing(unpaired))
            MMLogger.get_current_instance().warning(msg + ', dropped:\n' +
                                                    _listing(unpaired))
        if self.check_sizes:
            self._check_pair_sizes(data_list)
        return data_list


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
    """Low-light images, optionally paired with ground truth by file stem.

    Layouts: LOL (``low/`` + ``high/``), RUAS / MIT-Adobe FiveK (``test/`` +
    ``gt/``), or unpaired (DARK FACE, ExDark, any folder); the stems of a
    pair are identical. Pipelines use
    :class:`~mmfusenas.datasets.transforms.LoadEnhanceImages` and
    :class:`~mmfusenas.datasets.transforms.PackEnhanceInputs`.

    Examples::

        LowLightDataset(data_root='data/LOL/eval15')          # low/, high/
        LowLightDataset(data_root='data/DarkFace')            # images only
        LowLightDataset(data_prefix=dict(low='a/', gt='b/'))  # explicit

    Args:
        data_root, data_prefix, **kwargs: see
            :class:`PairedRestorationDataset`.
        with_gt (bool, optional): Defaults to None (ground truth when
            present).
        pipeline (Sequence[dict | Callable]): Defaults to ().
    """

    LAYOUT, NAMED_GT = 'lol', False


@DATASETS.register_module()
class HazeDataset(_LayoutDataset):
    """Hazy / clear pairs (RESIDE SOTS, ITS, OTS, O-HAZE, the toy haze).

    Layout: ``hazy/`` + ``clear/`` | ``GT/`` | ``gt/``, where
    ``<id>_<k>[_<beta>]`` pairs with ``<id>``; ``hazy/`` alone or images in
    ``data_root`` are unpaired. Arguments and pipelines as
    :class:`LowLightDataset`.
    """

    LAYOUT = 'sots'


@DATASETS.register_module()
class UnderwaterDataset(_LayoutDataset):
    """Raw underwater / reference pairs (UIEB, the toy underwater data).

    Layouts: ``raw-890/`` + ``reference-890/`` (UIEB), ``raw/`` +
    ``reference/`` (toy data), with identical stems; ``challenging-60/`` or
    ``raw/`` alone, or images in ``data_root``, are unpaired. Arguments and
    pipelines as :class:`LowLightDataset`.
    """

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
    """Every image of a folder, with its blur kernel and ground truth.

    The dataset of ``tools/deblur.py``. With ``kernels`` (non-blind
    deblurring) the kernel of ``<stem>.<ext>`` is ``kernels/<stem>.<ext>``
    (or the one kernel file ``kernels``), and the image is prepared by
    :class:`~mmfusenas.datasets.transforms.KernelEdgeTaper`. The ground
    truth is named like the input or by :func:`gt_stems`.

    Args:
        img_dir (str): folder of degraded images.
        kernels (str, optional): folder of kernels named like the images, or
            one kernel file (``.png`` / ``.dlm`` / ``.txt`` / ``.npy`` /
            ``.mat``). None: no kernels (deraining, dehazing).
        gt_dir (str, optional): folder of clean images.
        color (bool): RGB instead of gray. Defaults to False.
        noise_sigma (float, optional): noise level to attach (needed by a
            manual-guidance model).
        pad (bool): with kernels: edge padding + edgetaper. Defaults to True.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments. Defaults to None (inferred from the path).
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
    """One item of :class:`RestorationFolderDataset` (also what
    :func:`mmfusenas.apis.inference_restorer` feeds the model).

    Args:
        img_path (str): the degraded image.
        kernel (str | np.ndarray, optional): its blur kernel, a file or a 2-D
            array (clipped at 0 and normalised to sum 1); None: no kernel.
        gt_path (str, optional): the clean image.
        color, noise_sigma, pad, backend_args: see
            :class:`RestorationFolderDataset`.

    Returns:
        dict: ``inputs`` (``(C, H, W)`` float) and ``data_samples``.
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

    Item ``i`` is image ``i mod N`` of the sorted images of ``img_dirs``
    (``len`` is ``length``, default ``N``). The pipeline draws from
    ``results['rng']``, seeded by ``(seed, i, draw)``, where ``draw`` counts
    the items read (0 with ``fixed=True``: item ``i`` is the same every
    epoch); with :attr:`REDRAW` False (test sets) by ``(seed, i)``.

    Args:
        img_dirs (str | Sequence[str]): image folder(s).
        pipeline (Sequence[dict | Callable]): the degradation pipeline.
        length (int, optional): items per epoch. Defaults to None.
        fixed (bool): one draw per index. Defaults to False.
        seed (int): base seed. Defaults to 0.
        metainfo (dict, optional): meta information. Defaults to None.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments. Defaults to None (inferred from the path).
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
