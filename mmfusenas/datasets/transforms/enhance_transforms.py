"""Loading and packing of low-light images (and their ground truth)."""
import io
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.structures import BaseDataElement
from PIL import Image

from mmfusenas.registry import TRANSFORMS
from .formatting import FUSION_META_KEYS, attr_repr
from .loading import finish_loading, sample_files


@TRANSFORMS.register_module()
class LoadEnhanceImages(BaseTransform):
    """Read every modality (``low`` and, paired, ``gt``) as RGB ``uint8``.

    Decoded with Pillow as the official RUAS test script; adds the arrays,
    ``modalities``, ``img_shape``, ``ori_shape`` and ``stem``. Errors name
    the file.

    Args:
        strict_rgb (bool): reject files that are not 8-bit RGB (False:
            ``convert('RGB')``). Defaults to True.
        backend_args (dict, optional): :mod:`mmengine.fileio` arguments.
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
        img_path, modalities = sample_files(results, 'LoadEnhanceImages')
        for mod in modalities:
            results[mod] = self._read(img_path[mod], mod)
        finish_loading(results, img_path, modalities, 'LoadEnhanceImages')
        return results

    __repr__ = attr_repr


@TRANSFORMS.register_module()
class PackEnhanceInputs(BaseTransform):
    """Pack a low-light image (and its GT) for :class:`ImageEnhancer`:
    ``dict(inputs=uint8 (3, H, W), data_samples=BaseDataElement)`` with
    ``gt_img`` (same format) when present and the ``meta_keys`` present as
    metainfo.

    Args:
        meta_keys (Sequence[str]): Defaults to ``FUSION_META_KEYS``.
    """

    def __init__(self, meta_keys: Sequence[str] = FUSION_META_KEYS) -> None:
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
        if 'low' not in results:
            raise KeyError("PackEnhanceInputs: results has no input image "
                           "'low'; run LoadEnhanceImages first.")
        sample = BaseDataElement(
            metainfo={k: results[k]
                      for k in self.meta_keys if k in results})
        if 'gt' in results:
            sample.gt_img = self._tensor(results, 'gt')
        return dict(inputs=self._tensor(results, 'low'), data_samples=sample)

    __repr__ = attr_repr
