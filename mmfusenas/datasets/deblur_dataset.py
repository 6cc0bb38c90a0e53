"""Non-blind deblurring datasets: synthetic training crops, the Levin et al.
benchmark and blurred image folders (items for
:class:`~mmfusenas.models.HQSRestorer`)."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine import fileio

from mmfusenas.registry import DATASETS
from .deblur_synthesis import load_kernels
from .restoration_folder_dataset import SyntheticRestorationDataset, _stem

__all__ = ['SyntheticDeblurDataset', 'LevinDataset', 'BlurredImageDataset']


def _test_pipeline(noise_sigma: float, quantize: bool, pad: bool,
                   kernel_pad: Optional[int]) -> List[dict]:
    return [
        dict(type='LevinBlur', noise_sigma=noise_sigma, quantize=quantize),
        dict(type='KernelEdgeTaper', pad=pad, kernel_pad=kernel_pad),
        dict(type='PackRestorationInputs')
    ]


@DATASETS.register_module()
class SyntheticDeblurDataset(SyntheticRestorationDataset):
    """Random crops of any image folder, blurred and noised on the fly.

    Every item draws a crop, a kernel and ``σ`` (``SynthesizeBlur``).

    Args:
        img_dirs (str | Sequence[str]): image folder(s).
        kernels: kernel source of :func:`~.deblur_synthesis.load_kernels`.
        crop_size (int): square crop side. Defaults to 320.
        sigma_range, kernel_pad, quantize, flip_prob: as ``SynthesizeBlur``.
        length (int, optional): items per epoch (default: the images).
        color (bool): RGB crops instead of gray. Defaults to False.
        fixed (bool): one draw per index. Defaults to False.
        seed (int): base seed (also of generated kernels). Defaults to 0.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self,
                 img_dirs: str | Sequence[str],
                 kernels: str | Sequence[str] | dict = dict(
                     type='motion', num=20, size=(15, 19, 23, 27)),
                 crop_size: int = 320,
                 sigma_range: Tuple[float, float] = (0.01, 0.05),
                 kernel_pad: Optional[int] = 37,
                 length: Optional[int] = None,
                 color: bool = False,
                 quantize: bool = True,
                 flip_prob: float = 0.5,
                 fixed: bool = False,
                 seed: int = 0,
                 backend_args: Optional[dict] = None) -> None:
        self.kernels = load_kernels(kernels, seed, backend_args)
        big = [k.shape for k in self.kernels if max(k.shape) > crop_size]
        if big:
            raise ValueError(f'kernels {big} are larger than crop_size '
                             f'{crop_size}')
        if kernel_pad is not None and max(
                max(k.shape) for k in self.kernels) > kernel_pad:
            raise ValueError(f'kernel_pad {kernel_pad} is smaller than the '
                             'largest kernel')
        lo, hi = sigma_range
        if not 0 <= lo <= hi:
            raise ValueError(f'sigma_range must be 0 <= lo <= hi, got '
                             f'{sigma_range}')
        pipeline = [
            dict(type='LoadRestorationImages', color=color,
                 backend_args=backend_args),
            dict(type='RestorationCrop', crop_size=crop_size),
            dict(type='SynthesizeBlur', kernels=self.kernels,
                 sigma_range=sigma_range, kernel_pad=kernel_pad,
                 quantize=quantize, flip_prob=flip_prob),
            dict(type='PackRestorationInputs')
        ]
        super().__init__(img_dirs, pipeline, length, fixed, seed,
                         dict(task='deblur', color=color), backend_args)


@DATASETS.register_module()
class LevinDataset(SyntheticRestorationDataset):
    """The Levin et al. (2009) benchmark: 4 images × 8 kernels.

    ``imXX_flitKK.mat`` files (``x``, ``y``, ``f``); ``y`` re-synthesised
    as the official ``testlevin`` (``LevinBlur``, ``KernelEdgeTaper``).

    Args:
        data_root (str): the folder of ``.mat`` files.
        noise_sigma (float): σ in ``[0, 1]`` units. Defaults to 0.01.
        seed (int): noise seed. Defaults to 0.
        use_stored_blur (bool): noise the stored ``y`` instead of re-blurring
            ``x``. Defaults to False.
        quantize (bool): ``uint8`` truncation. Defaults to False.
        pad (bool): edge padding + edgetaper. Defaults to True.
        kernel_pad (int, optional): zero-pad kernels to this size.
        files (Sequence[str], optional): file names to use (default all).
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    REDRAW = False

    def __init__(self,
                 data_root: str,
                 noise_sigma: float = 0.01,
                 seed: int = 0,
                 use_stored_blur: bool = False,
                 quantize: bool = False,
                 pad: bool = True,
                 kernel_pad: Optional[int] = None,
                 files: Optional[Sequence[str]] = None,
                 backend_args: Optional[dict] = None) -> None:
        self.file_names = files
        pipeline = [
            dict(type='LoadLevinMat', use_stored_blur=use_stored_blur,
                 backend_args=backend_args)
        ] + _test_pipeline(noise_sigma, quantize, pad, kernel_pad)
        super().__init__(
            data_root, pipeline, seed=seed, backend_args=backend_args,
            metainfo=dict(task='deblur', benchmark='levin09'))

    def load_data_list(self) -> List[dict]:
        root, args = self.img_dirs, self.backend_args
        if not fileio.isdir(root, backend_args=args):
            raise FileNotFoundError(
                f'Levin benchmark folder {root} does not exist; it holds '
                'the imXX_flitKK.mat files (x, y, f) of Levin et al. 2009 '
                '(../shared/data/deblur/levin09 on the project machines)')
        paths = sorted(
            fileio.join_path(root, name, backend_args=args)
            for name in fileio.list_dir_or_file(
                root, list_dir=False, suffix='.mat', backend_args=args))
        if self.file_names is not None:
            names = set(self.file_names)
            paths = [p for p in paths if osp.basename(p) in names]
            missing = names - {osp.basename(p) for p in paths}
            if missing:
                raise FileNotFoundError(f'{sorted(missing)} not in {root}')
        if not paths:
            raise FileNotFoundError(f'no .mat file in {root}')
        return [dict(mat_path=p, stem=_stem(p)) for p in paths]


@DATASETS.register_module()
class BlurredImageDataset(SyntheticRestorationDataset):
    """Sharp images blurred with a fixed kernel set under the Levin protocol
    (e.g. BSD68 with Levin's eight kernels): image ``i`` (sorted) gets
    kernel ``i mod K``, synthesised as :class:`LevinDataset`.

    Args:
        img_dir (str): folder of sharp gray images.
        kernels: kernel source of :func:`~.deblur_synthesis.load_kernels`.
        noise_sigma (float): σ in ``[0, 1]`` units. Defaults to 0.01.
        seed (int): noise seed. Defaults to 0.
        crop_size (int, optional): central square crop. Defaults to None.
        num_images (int, optional): this many images, evenly spread over
            the sorted folder. Defaults to None (all).
        quantize, pad, kernel_pad, backend_args: as :class:`LevinDataset`.
    """

    REDRAW = False

    def __init__(self,
                 img_dir: str,
                 kernels: str | Sequence[str] | dict,
                 noise_sigma: float = 0.01,
                 seed: int = 0,
                 crop_size: Optional[int] = None,
                 num_images: Optional[int] = None,
                 quantize: bool = False,
                 pad: bool = True,
                 kernel_pad: Optional[int] = None,
                 backend_args: Optional[dict] = None) -> None:
        self.kernels = load_kernels(kernels, seed, backend_args)
        self.num_images = num_images
        crop = [] if crop_size is None else [
            dict(type='RestorationCrop', crop_size=crop_size, center=True)
        ]
        pipeline = [
            dict(type='LoadRestorationImages', backend_args=backend_args)
        ] + crop + _test_pipeline(noise_sigma, quantize, pad, kernel_pad)
        super().__init__(
            img_dir, pipeline, seed=seed, backend_args=backend_args,
            metainfo=dict(task='deblur',
                          benchmark=osp.basename(osp.normpath(img_dir))))

    def load_data_list(self) -> List[dict]:
        data_list, n = super().load_data_list(), self.num_images
        if n is not None:
            if not 1 <= n <= len(data_list):
                raise ValueError(f'num_images must lie in [1, '
                                 f'{len(data_list)}] (the images of '
                                 f'{self.img_dirs}), got {n}')
            idx = np.linspace(0, len(data_list) - 1, n).round()
            data_list = [data_list[int(i)] for i in idx]
        for i, info in enumerate(data_list):
            ki = i % len(self.kernels)
            info.update(kernel=self.kernels[ki], stem=f"{info['stem']}_k{ki}")
        return data_list
