"""A folder of degraded images to restore (deblur given kernels, derain,
dehaze), with optional ground truth — the dataset of ``tools/deblur.py``."""
import os.path as osp
from typing import Optional, Union

import numpy as np
import torch
from mmengine import fileio
from mmengine.structures import BaseDataElement
from torch.utils.data import Dataset

from mmfusenas.registry import DATASETS
from .deblur_dataset import _chw, list_images, read_image
from .deblur_synthesis import (KERNEL_EXTS, _read_kernel_file, edgetaper,
                               normalize_kernel)
from .derain_dehaze_dataset import _rain100_gt, _sots_gt

__all__ = ['RestorationFolderDataset', 'restoration_sample']


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


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


@DATASETS.register_module()
class RestorationFolderDataset(Dataset):
    """Every image of a folder, with its blur kernel and ground truth.

    Each ``<stem>.<ext>`` of ``img_dir`` is read (gray, or RGB with
    ``color``). With ``kernels`` (non-blind deblurring) its kernel is
    ``kernels/<stem>.<ext>`` (or the single kernel file ``kernels``), the
    image is edge-padded by ``⌊k/2⌋`` and edge-tapered, and ``crop_pad``
    removes the padding from the prediction. With ``gt_dir`` the clean image
    is attached as ``gt_img``; it is named like the input or by the Rain100
    (``rain-001`` ↔ ``norain-001``) / SOTS (``0001_0.8_0.2`` ↔ ``0001``)
    conventions.

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
            arguments (object storage) for listing and reading images and
            kernels. Defaults to None (inferred from the path).
    """

    def __init__(self,
                 img_dir: str,
                 kernels: Optional[str] = None,
                 gt_dir: Optional[str] = None,
                 color: bool = False,
                 noise_sigma: Optional[float] = None,
                 pad: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args
        self.files = list_images(img_dir, backend_args)
        self.kernel_files = None
        if kernels is not None:
            if not fileio.exists(kernels, backend_args=backend_args):
                raise FileNotFoundError(f'kernel folder / file {kernels} '
                                        'does not exist')
            self.kernel_files = [
                _find_kernel(kernels, _stem(f), backend_args)
                for f in self.files
            ]
        self.gt_files = None
        if gt_dir is not None:
            gts = {_stem(f): f for f in list_images(gt_dir, backend_args)}
            self.gt_files = []
            for f in self.files:
                cands = [_stem(f), *_rain100_gt(_stem(f)), *_sots_gt(_stem(f))]
                match = [gts[c] for c in cands if c in gts]
                if not match:
                    raise FileNotFoundError(
                        f'no ground truth in {gt_dir} for {osp.basename(f)} '
                        f'(tried {cands})')
                self.gt_files.append(match[0])
        self.color = color
        self.noise_sigma = noise_sigma
        self.pad = pad
        self.metainfo = dict(task='restoration')

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, idx: int) -> dict:
        return restoration_sample(
            self.files[idx],
            self.kernel_files[idx] if self.kernel_files is not None else None,
            self.gt_files[idx] if self.gt_files is not None else None,
            self.color, self.noise_sigma, self.pad, self.backend_args)


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
        kernel (str | np.ndarray, optional): its blur kernel, a file
            (``.png`` / ``.dlm`` / ``.txt`` / ``.npy`` / ``.mat``) or a 2-D
            array (clipped at 0 and normalised to sum 1 as the files are);
            None: no kernel.
        gt_path (str, optional): the clean image.
        color (bool): read RGB instead of gray. Defaults to False.
        noise_sigma (float, optional): noise level to attach.
        pad (bool): with a kernel: edge padding by ``⌊k/2⌋`` + edgetaper,
            cropped off the prediction (``crop_pad``). Defaults to True.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments for reading the files. Defaults to None (inferred from
            the path).

    Returns:
        dict: ``inputs`` (``(C, H, W)`` float) and ``data_samples``.
    """
    y = read_image(img_path, color, backend_args)
    sample = BaseDataElement(stem=_stem(img_path))
    if kernel is not None:
        if isinstance(kernel, np.ndarray):
            k = normalize_kernel(kernel, 'kernel array')
        else:
            ks = _read_kernel_file(kernel, backend_args)
            if len(ks) != 1:
                raise ValueError(f'{kernel} holds {len(ks)} kernels; '
                                 'expected one')
            k = ks[0]
        crop_pad = (0, 0, 0, 0)
        if pad:
            p = (k.shape[0] // 2, k.shape[1] // 2)
            pads = ((p[0], p[0]), (p[1], p[1])) + ((0, 0), ) * (y.ndim - 2)
            y = edgetaper(np.pad(y, pads, mode='edge'), k)
            crop_pad = (p[0], p[0], p[1], p[1])
        sample.kernel = torch.from_numpy(k.astype(np.float32))
        sample.kernel_size = tuple(k.shape)
        sample.crop_pad = crop_pad
    if noise_sigma is not None:
        sample.noise_sigma = float(noise_sigma)
    if gt_path is not None:
        sample.gt_img = _chw(read_image(gt_path, color, backend_args))
    return dict(inputs=_chw(y), data_samples=sample)
