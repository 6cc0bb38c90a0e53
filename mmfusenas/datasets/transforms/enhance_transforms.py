"""Loading and packing of low-light images (and their ground truth)."""
import io
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.structures import BaseDataElement
from PIL import Image

from mmfusenas.registry import TRANSFORMS

#: Default metainfo keys of :class:`PackEnhanceInputs`.
ENHANCE_META_KEYS = ('sample_idx', 'stem', 'img_path', 'ori_shape',
                     'img_shape', 'modalities', 'flip', 'flip_direction',
                     'rot90_k', 'crop_bbox', 'scale_factor')


@TRANSFORMS.register_module()
class LoadEnhanceImages(BaseTransform):
    """Read the low-light image (and its ground truth) as RGB ``uint8``.

    Files are decoded with Pillow, as the official RUAS test script does
    (``PIL.Image.open(f).convert('RGB')``). With ``strict_rgb=True`` (the
    default) only 8-bit RGB files are accepted and anything else (grey,
    palette, RGBA, 16-bit, CMYK, ...) raises a ``ValueError`` naming the file
    and its Pillow mode; ``strict_rgb=False`` converts every file with
    ``convert('RGB')`` like the official code (grey is replicated, alpha
    dropped, 16-bit truncated).

    Every modality of ``results['modalities']`` is loaded (``'low'`` and,
    for paired data, ``'gt'``), so the paired geometric transforms
    (:class:`~mmfusenas.datasets.transforms.PairedRandomCrop`, flips,
    rotations) move the low-light image and its GT together.

    Required keys:

    - img_path (dict[str, str]): modality -> file.
    - modalities (tuple[str]): optional; defaults to the order of
      ``img_path``.

    Added keys:

    - <modality> (np.ndarray): ``uint8`` ``(H, W, 3)`` RGB, per modality.
    - modalities (tuple[str]), img_shape, ori_shape (``(H, W)``), stem
      (when absent: the first file's stem).

    Errors (all name the file): a missing file (FileNotFoundError), an empty
    or undecodable file (OSError), a zero-size image, a non-RGB file with
    ``strict_rgb=True``, and images of one sample of different sizes
    (ValueError).

    Args:
        strict_rgb (bool): reject files that are not 8-bit RGB instead of
            converting them. Defaults to True.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments (object storage). Defaults to None (the backend is
            inferred from the path).
    """

    def __init__(self,
                 strict_rgb: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        self.strict_rgb = strict_rgb
        self.backend_args = backend_args

    def _read(self, path: str, modality: str) -> np.ndarray:
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'LoadEnhanceImages: image file {path!r} '
                f'({modality!r}) does not exist.') from None
        if len(content) == 0:
            raise OSError(f'LoadEnhanceImages: {path!r} ({modality!r}) is '
                          'an empty file (0 bytes).')
        try:
            with Image.open(io.BytesIO(content)) as img:
                # Pillow decodes 16-bit-per-channel RGB PNGs as mode 'RGB'
                # (truncated to 8 bits); the tile's raw mode tells them apart
                raw = [str(getattr(t, 'args', t[3] if len(t) > 3 else ''))
                       for t in img.tile]
                if self.strict_rgb and any(';16' in r for r in raw):
                    raise ValueError(
                        f'LoadEnhanceImages: {path!r} ({modality!r}) has 16 '
                        f'bits per channel (raw mode {raw[0]!r}); expected '
                        'an 8-bit RGB image. Convert it to 8 bits, or set '
                        'strict_rgb=False to truncate on load like the '
                        "official RUAS code (Image.convert('RGB')).")
                img.load()
                if self.strict_rgb and img.mode != 'RGB':
                    raise ValueError(
                        f'LoadEnhanceImages: {path!r} ({modality!r}) has '
                        f'Pillow mode {img.mode!r}; expected an 8-bit RGB '
                        "image (mode 'RGB'). Convert it, or set "
                        'strict_rgb=False to convert on load like the '
                        "official RUAS code (Image.convert('RGB')).")
                arr = np.asarray(img.convert('RGB'))
        # Pillow raises OSError (UnidentifiedImageError) or SyntaxError
        except (OSError, SyntaxError) as err:
            raise OSError(f'LoadEnhanceImages: cannot decode {path!r} '
                          f'({modality!r}): {err}') from err
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise ValueError(f'LoadEnhanceImages: {path!r} ({modality!r}) '
                             f'has zero size {arr.shape[0]}x{arr.shape[1]} '
                             '(HxW).')
        return np.ascontiguousarray(arr)

    def transform(self, results: dict) -> dict:
        """Load every modality of ``results['img_path']``.

        Args:
            results (dict): result dict from the dataset.

        Returns:
            dict: ``results`` with the keys listed in the class docstring.
        """
        img_path = results.get('img_path')
        if not isinstance(img_path, dict) or not img_path:
            raise KeyError('LoadEnhanceImages: results["img_path"] must be a '
                           'non-empty dict modality -> file, got '
                           f'{img_path!r}.')
        modalities = tuple(results.get('modalities') or img_path)
        missing = [m for m in modalities if m not in img_path]
        if missing:
            raise KeyError(f'LoadEnhanceImages: modalities {missing} have no '
                           f'entry in results["img_path"] {img_path}.')
        first = modalities[0]
        for mod in modalities:
            results[mod] = self._read(img_path[mod], mod)
            if results[mod].shape != results[first].shape:
                raise ValueError(
                    'LoadEnhanceImages: the images of a sample differ in '
                    f'size: {img_path[first]!r} ({first}) is '
                    f'{results[first].shape[0]}x{results[first].shape[1]} '
                    f'but {img_path[mod]!r} ({mod}) is '
                    f'{results[mod].shape[0]}x{results[mod].shape[1]} '
                    '(HxW); expected aligned pairs.')
        shape = results[first].shape[:2]
        results['modalities'] = modalities
        results['img_shape'] = shape
        results['ori_shape'] = shape
        if 'stem' not in results:
            results['stem'] = osp.splitext(osp.basename(img_path[first]))[0]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(strict_rgb={self.strict_rgb}, '
                f'backend_args={self.backend_args!r})')


@TRANSFORMS.register_module()
class PackEnhanceInputs(BaseTransform):
    """Pack a low-light image (and its GT) for :class:`ImageEnhancer`.

    The input modality becomes a C-contiguous ``uint8`` ``(3, H, W)``
    tensor (scaled to ``[0, 1]`` by
    :class:`~mmfusenas.models.enhancers.EnhanceDataPreprocessor`); the GT
    modality, when present, becomes the data sample's ``gt_img`` (same
    format).

    Returns ``dict(inputs=Tensor, data_samples=BaseDataElement)``; the data
    sample's metainfo holds the ``meta_keys`` present in ``results``.

    Args:
        input_key (str): modality of the low-light input. Defaults to 'low'.
        gt_key (str): modality of the ground truth (optional in
            ``results``). Defaults to 'gt'.
        meta_keys (Sequence[str]): keys copied into the metainfo. Defaults
            to ``('sample_idx', 'stem', 'img_path', 'ori_shape',
            'img_shape', 'modalities', 'flip', 'flip_direction', 'rot90_k',
            'crop_bbox', 'scale_factor')``.
    """

    def __init__(self,
                 input_key: str = 'low',
                 gt_key: str = 'gt',
                 meta_keys: Sequence[str] = ENHANCE_META_KEYS) -> None:
        self.input_key = input_key
        self.gt_key = gt_key
        self.meta_keys = tuple(meta_keys)

    def _tensor(self, results: dict, key: str) -> torch.Tensor:
        img = results[key]
        if not isinstance(img, np.ndarray) or img.ndim != 3 or \
                img.shape[2] != 3:
            raise ValueError(
                f'PackEnhanceInputs: results[{key!r}] of sample '
                f'{results.get("stem")!r} must be an (H, W, 3) RGB array, '
                f'got {type(img).__name__}{getattr(img, "shape", "")}.')
        return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))

    def transform(self, results: dict) -> dict:
        """Pack ``results``.

        Args:
            results (dict): result dict from the pipeline.

        Returns:
            dict: ``dict(inputs=Tensor, data_samples=BaseDataElement)``.
        """
        if self.input_key not in results:
            raise KeyError(f'PackEnhanceInputs: results has no input image '
                           f'{self.input_key!r}; run LoadEnhanceImages '
                           'first.')
        sample = BaseDataElement(
            metainfo={k: results[k]
                      for k in self.meta_keys if k in results})
        if self.gt_key in results:
            sample.gt_img = self._tensor(results, self.gt_key)
        return dict(
            inputs=self._tensor(results, self.input_key), data_samples=sample)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_key={self.input_key!r}, '
                f'gt_key={self.gt_key!r}, meta_keys={self.meta_keys})')
