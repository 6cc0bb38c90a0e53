"""Loading of registered multi-modality image pairs."""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmfusenas.registry import TRANSFORMS
from mmfusenas.utils.fileio import decode_image
from .formatting import attr_repr

COLOR_TYPES = ('auto', 'gray', 'color')


def sample_files(results: dict,
                 owner: str) -> Tuple[Dict[str, str], Tuple[str, ...]]:
    """``results['img_path']`` (modality -> file) and the modality order
    (``results['modalities']``, else that of ``img_path``), checked."""
    img_path = results.get('img_path')
    if not isinstance(img_path, dict) or not img_path:
        raise KeyError(f'{owner}: results["img_path"] must be a non-empty '
                       f'dict modality -> file, got {img_path!r}.')
    modalities = tuple(results.get('modalities') or img_path)
    missing = [m for m in modalities if m not in img_path]
    if missing:
        raise KeyError(f'{owner}: modalities {missing} have no entry in '
                       f'results["img_path"] {img_path}.')
    return img_path, modalities


def finish_loading(results: dict, img_path: Dict[str, str],
                   modalities: Tuple[str, ...], owner: str) -> None:
    """Check that the loaded modalities share one size (an error naming
    both files) and set ``modalities``, ``img_shape``, ``ori_shape`` and
    ``stem`` (default: the first file's)."""
    first = modalities[0]
    shape = results[first].shape[:2]
    for mod in modalities[1:]:
        if results[mod].shape[:2] != shape:
            raise ValueError(
                f'{owner}: the images of a pair differ in size: '
                f'{img_path[first]!r} ({first}) is {shape[0]}x{shape[1]} '
                f'(HxW) but {img_path[mod]!r} ({mod}) is '
                f'{results[mod].shape[0]}x{results[mod].shape[1]}; expected '
                'registered images of identical size.')
    results['modalities'] = modalities
    results['img_shape'] = results['ori_shape'] = shape
    results.setdefault('stem', osp.splitext(osp.basename(img_path[first]))[0])


@TRANSFORMS.register_module()
class LoadPairedImages(BaseTransform):
    """Read every modality of a sample as an 8-bit gray or RGB array.

    ``results['img_channels']`` (modality -> channel indices, OpenCV order)
    selects channels of a multi-modality file (MFNet's RGB-T PNG). Adds one
    ``uint8 (H, W, 1 | 3)`` array per modality, ``modalities``,
    ``color_modality`` (the first 3-channel modality, or None),
    ``img_shape``, ``ori_shape`` and ``stem``; errors name the file.

    Args:
        color_type (str | dict[str, str]): ``'auto'`` (gray when the
            channels agree within ``gray_tolerance``, else RGB), ``'gray'``,
            ``'color'``, or modality -> one of them. Defaults to 'auto'.
        gray_tolerance (int): largest channel difference of a gray image
            stored as colour (compression noise). Defaults to 2.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
    """

    def __init__(self,
                 color_type: Union[str, Dict[str, str]] = 'auto',
                 gray_tolerance: int = 2,
                 backend_args: Optional[dict] = None) -> None:
        values = (color_type.values()
                  if isinstance(color_type, dict) else [color_type])
        for value in values:
            if value not in COLOR_TYPES:
                raise ValueError(
                    f'LoadPairedImages: color_type must be one of '
                    f'{COLOR_TYPES} or a dict modality -> one of them, got '
                    f'{color_type!r}.')
        if not isinstance(gray_tolerance, int) or not \
                0 <= gray_tolerance <= 255:
            raise ValueError('LoadPairedImages: gray_tolerance must be an '
                             f'int in [0, 255], got {gray_tolerance!r}.')
        self.color_type = (
            dict(color_type) if isinstance(color_type, dict) else color_type)
        self.gray_tolerance = gray_tolerance
        self.backend_args = backend_args

    def _mode_of(self, modality: str) -> str:
        if isinstance(self.color_type, dict):
            return self.color_type.get(modality, 'auto')
        return self.color_type

    def _is_gray(self, bgr: np.ndarray) -> bool:
        """Whether the channels of a 3-channel image agree within tolerance."""
        b, g, r = cv2.split(bgr)
        return max(cv2.absdiff(b, g).max(), cv2.absdiff(g, r).max(),
                   cv2.absdiff(b, r).max()) <= self.gray_tolerance

    def _imread(self, path: str, modality: str) -> np.ndarray:
        """Decode one 8-bit file as OpenCV stores it (BGR order)."""
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'LoadPairedImages: image file {path!r} (modality '
                f'{modality!r}) does not exist.') from None
        try:
            img = decode_image(content, path)
        except OSError as err:
            raise OSError(f'LoadPairedImages (modality {modality!r}): {err}; '
                          'expected a readable 8-bit image file.') from None
        if img.dtype != np.uint8:
            raise ValueError(
                f'LoadPairedImages: {path!r} (modality {modality!r}) has '
                f'pixel type {img.dtype} ({img.dtype.itemsize * 8}-bit); '
                'only 8-bit (uint8) images are supported.')
        return img

    @staticmethod
    def _select(img: np.ndarray, channels: Sequence[int], path: str,
                modality: str) -> np.ndarray:
        """Take ``channels`` (OpenCV order) of a decoded file."""
        num = 1 if img.ndim == 2 else img.shape[2]
        chans = list(channels)
        if len(chans) not in (1, 3) or not all(
                isinstance(c, (int, np.integer)) and 0 <= c < num
                for c in chans):
            raise ValueError(
                f'LoadPairedImages: img_channels[{modality!r}] = '
                f'{channels!r} does not fit {path!r}, which has {num} '
                'channel(s); expected 1 or 3 indices in [0, '
                f'{num}) in OpenCV order (B, G, R, 4th).')
        return img.reshape(img.shape[:2] + (num, ))[..., chans]

    def _convert(self, img: np.ndarray, path: str,
                 modality: str) -> np.ndarray:
        """Turn a decoded file into an ``(H, W, 1 | 3)`` gray / RGB array."""
        if img.ndim == 2:
            img = img[..., None]
        channels = img.shape[2] if img.ndim == 3 else None
        if channels not in (1, 3):
            has = (f'{channels} channels' if channels is not None else
                   f'{img.ndim} dimensions')
            raise ValueError(
                f'LoadPairedImages: {path!r} (modality {modality!r}) has '
                f'{has} (array shape {img.shape}); expected 1 '
                '(gray) or 3 (colour). Convert it to gray or RGB without '
                'alpha first.')

        mode = self._mode_of(modality)
        if channels == 1:
            if mode == 'color':
                img = np.repeat(img, 3, axis=2)
        elif mode == 'gray' or (mode == 'auto' and self._is_gray(img)):
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[..., None]
        else:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        return np.ascontiguousarray(img)

    def transform(self, results: dict) -> dict:
        img_path, modalities = sample_files(results, 'LoadPairedImages')
        if isinstance(self.color_type, dict):
            unknown = [m for m in self.color_type if m not in modalities]
            if unknown:
                raise KeyError(
                    f'LoadPairedImages: color_type names {unknown}, which '
                    f'are not modalities of this sample {modalities}.')

        img_channels = results.get('img_channels') or {}
        unknown = [m for m in img_channels if m not in modalities]
        if unknown:
            raise KeyError(
                f'LoadPairedImages: results["img_channels"] names {unknown}, '
                f'which are not modalities of this sample {modalities}.')

        decoded: Dict[str, np.ndarray] = {}
        color_modality = None
        for mod in modalities:
            path = img_path[mod]
            if path not in decoded:
                decoded[path] = self._imread(path, mod)
            img = decoded[path]
            if mod in img_channels:
                img = self._select(img, img_channels[mod], path, mod)
            results[mod] = img = self._convert(img, path, mod)
            if color_modality is None and img.shape[2] == 3:
                color_modality = mod
        finish_loading(results, img_path, modalities, 'LoadPairedImages')
        results['color_modality'] = color_modality
        return results

    __repr__ = attr_repr
