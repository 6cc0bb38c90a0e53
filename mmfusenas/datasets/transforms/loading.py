"""Loading of registered multi-modality image pairs."""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmfusenas.registry import TRANSFORMS
from mmfusenas.utils.fileio import decode_image

COLOR_TYPES = ('auto', 'gray', 'color')


@TRANSFORMS.register_module()
class LoadPairedImages(BaseTransform):
    """Read every modality of a sample as an 8-bit gray or RGB array.

    Files are read through :mod:`mmengine.fileio` (``backend_args``: local
    disk or object storage) and decoded as OpenCV's ``cv2.imread(path,
    cv2.IMREAD_UNCHANGED)`` does (``mmcv.imfrombytes(bytes,
    flag='unchanged')``); the colour of each modality is decided by
    ``color_type``:

    - ``'auto'``: a 1-channel image stays gray; a 3-channel image whose three
      channels are equal (up to ``gray_tolerance`` grey levels) is gray
      stored as colour (TNO, LLVIP/KAIST infrared, medical MRI/CT) and becomes
      1-channel (OpenCV ``BGR2GRAY``, which returns the common channel
      exactly when the channels are identical); any other 3-channel image is
      colour, converted from OpenCV's BGR to RGB.
    - ``'gray'``: always 1 channel; colour is converted with OpenCV
      ``BGR2GRAY`` (``0.299 R + 0.587 G + 0.114 B``).
    - ``'color'``: always 3 RGB channels; a gray image is replicated.

    Required keys:

    - img_path (dict[str, str]): modality -> file.
    - modalities (tuple[str]): modality order (optional; defaults to the
      order of ``img_path``).
    - stem (str): optional; defaults to the first file's stem.
    - img_channels (dict[str, Sequence[int]]): optional; modality ->
      channel indices to take from its file before the colour handling,
      for files that hold several modalities. Indices are in OpenCV order
      (a colour file is B, G, R; a 4-channel PNG is B, G, R, 4th). MFNet
      stores RGB-T as one 4-channel PNG: ``dict(vi=(0, 1, 2), ir=(3, ))``
      with both modalities pointing to the same file yields the BGR->RGB
      visible image and the thermal channel (set by
      :class:`~mmfusenas.datasets.PairedSegDataset`'s ``img_channels``). A
      file named by several modalities is decoded once.

    Added keys:

    - <modality> (np.ndarray): ``uint8`` array ``(H, W, C)``, ``C`` = 1 (gray)
      or 3 (RGB), one key per modality.
    - modalities (tuple[str])
    - color_modality (str | None): the first modality with 3 channels, or
      None when every modality is gray; its chroma is what the fused result
      gets back.
    - img_shape (tuple[int, int]): ``(H, W)``.
    - ori_shape (tuple[int, int]): ``(H, W)``.
    - stem (str)

    Errors (all name the file): a missing file (FileNotFoundError), a file
    OpenCV cannot decode (OSError), a bit depth other than 8 (ValueError), a
    channel count other than 1 or 3, e.g. gray+alpha or RGBA (ValueError),
    ``img_channels`` indices outside the file's channels or a selection of
    other than 1 or 3 channels (ValueError), and modalities of different
    sizes (ValueError naming both files and both shapes).

    Args:
        color_type (str | dict[str, str]): ``'auto'``, ``'gray'`` or
            ``'color'`` for every modality, or a dict modality -> one of
            those; modalities absent from the dict use ``'auto'``, and a
            dict key that is not a modality of the sample is an error.
            Defaults to 'auto'.
        gray_tolerance (int): In ``'auto'`` mode, a 3-channel image counts
            as gray when no two of its channels differ by more than this
            many grey levels anywhere. 0 demands identical channels. The
            default 2 absorbs the compression noise of gray images saved as
            colour (the KAIST infrared frames differ by up to 2 levels
            between channels), while real colour photographs differ by tens
            of levels (at least 36 on every shared sample). Defaults to 2.
        backend_args (dict, optional): file backend arguments of
            :mod:`mmengine.fileio` (e.g. ``dict(backend='petrel')``; as
            mmdet's ``LoadImageFromFile``). Defaults to None (the backend is
            inferred from the path: local disk for plain paths).
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
        if self.gray_tolerance == 0:
            return np.array_equal(b, g) and np.array_equal(g, r)
        tol = self.gray_tolerance
        return (cv2.absdiff(b, g).max() <= tol
                and cv2.absdiff(g, r).max() <= tol
                and cv2.absdiff(b, r).max() <= tol)

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
            raise ValueError(
                f'LoadPairedImages: {path!r} (modality {modality!r}) has '
                f'{channels} channels (array shape {img.shape}); expected 1 '
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
        """Load every modality of ``results['img_path']``.

        Args:
            results (dict): Result dict from the dataset (see class doc).

        Returns:
            dict: ``results`` with the keys added as described above.
        """
        img_path = results.get('img_path')
        if not isinstance(img_path, dict) or not img_path:
            raise KeyError(
                'LoadPairedImages: results["img_path"] must be a non-empty '
                f'dict modality -> file, got {img_path!r}.')
        modalities: Tuple[str, ...] = tuple(
            results.get('modalities') or img_path.keys())
        missing = [m for m in modalities if m not in img_path]
        if missing:
            raise KeyError(
                f'LoadPairedImages: modalities {missing} have no entry in '
                f'results["img_path"] {img_path}.')
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
        first: Optional[Tuple[str, Tuple[int, ...]]] = None
        color_modality = None
        for mod in modalities:
            path = img_path[mod]
            if path not in decoded:
                decoded[path] = self._imread(path, mod)
            img = decoded[path]
            if mod in img_channels:
                img = self._select(img, img_channels[mod], path, mod)
            img = self._convert(img, path, mod)
            if first is None:
                first = (mod, img.shape[:2])
            elif img.shape[:2] != first[1]:
                ref_mod, ref_shape = first
                raise ValueError(
                    'LoadPairedImages: the images of a pair differ in size: '
                    f'{img_path[ref_mod]!r} ({ref_mod}) is '
                    f'{ref_shape[0]}x{ref_shape[1]} (HxW) but '
                    f'{img_path[mod]!r} ({mod}) is '
                    f'{img.shape[0]}x{img.shape[1]}; expected registered '
                    'images of identical size.')
            if color_modality is None and img.shape[2] == 3:
                color_modality = mod
            results[mod] = img

        results['modalities'] = modalities
        results['color_modality'] = color_modality
        results['img_shape'] = first[1]
        results['ori_shape'] = first[1]
        if 'stem' not in results:
            results['stem'] = osp.splitext(
                osp.basename(img_path[modalities[0]]))[0]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(color_type={self.color_type!r}, '
                f'gray_tolerance={self.gray_tolerance}, '
                f'backend_args={self.backend_args!r})')
