"""Geometric transforms applied identically to every modality, the
``seg_fields`` maps and ``gt_bboxes`` of a sample (drawing from
``np.random``)."""
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.image.geometric import cv2_interp_codes
from mmcv.transforms import BaseTransform

from mmfusenas.registry import TRANSFORMS
from ..paired_image_dataset import check_choice
from .box_ops import crop_boxes, flip_boxes, rescale_boxes, rot90_boxes
from .formatting import attr_repr

INTERPOLATIONS = cv2_interp_codes
FLIP_DIRECTIONS = ('horizontal', 'vertical', 'diagonal')


def _describe(results: dict) -> str:
    """The sample, for error messages."""
    stem = results.get('stem')
    paths = results.get('img_path')
    if stem is None and paths is None:
        return 'the sample'
    return f'sample {stem!r} ({paths})'


def aligned_keys(results: dict,
                 transform: str) -> Tuple[List[str], List[str], Tuple[int,
                                                                      int]]:
    """The modality keys, the ``seg_fields`` keys and their common
    ``(H, W)``; KeyError / ValueError when missing or of other sizes."""
    modalities = results.get('modalities')
    if not modalities:
        raise KeyError(f'{transform}: results["modalities"] is missing; '
                       'run LoadPairedImages first.')
    if 'gt_flow' in results:
        raise ValueError(
            f'{transform}: {_describe(results)} already has a synthetic '
            'misalignment (gt_flow), which this transform would not move; '
            'put RandomElasticAffineWarp after the geometric transforms.')
    seg_keys = [k for k in results.get('seg_fields', [])
                if k not in modalities]
    for key in list(modalities) + seg_keys:
        if key not in results:
            raise KeyError(f'{transform}: results has no array {key!r} '
                           f'(listed in modalities / seg_fields) for '
                           f'{_describe(results)}.')
    shape = tuple(results[modalities[0]].shape[:2])
    for key in list(modalities[1:]) + seg_keys:
        if tuple(results[key].shape[:2]) != shape:
            raise ValueError(
                f'{transform}: {key!r} has shape {results[key].shape}, but '
                f'{modalities[0]!r} is {shape} (H, W) in '
                f'{_describe(results)}; expected aligned arrays of equal '
                'height and width.')
    return list(modalities), seg_keys, shape


def _as_hw(value: Union[int, Sequence[int]], name: str,
           owner: str) -> Tuple[int, int]:
    if isinstance(value, int):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, int) and v > 0 for v in value)):
        raise ValueError(f'{owner}: {name} must be a positive int or a pair '
                         f'of positive ints, got {value!r}.')
    return int(value[0]), int(value[1])


@TRANSFORMS.register_module()
class PairedRandomCrop(BaseTransform):
    """Crop the same random window out of every modality.

    Boxes are clipped, empty ones dropped (``num_dropped_boxes``). Adds
    ``crop_bbox`` (``x1, y1, x2, y2``, exclusive ends).

    Args:
        crop_size (int | tuple[int, int]): ``(h, w)``; an int is a square.
        pad_if_needed (bool): pad smaller images at the bottom / right
            instead of raising. Defaults to False.
        pad_val (int): padding of the modality images. Defaults to 0.
        seg_pad_val (int): padding of the ``seg_fields``. Defaults to 0.
    """

    def __init__(self,
                 crop_size: Union[int, Tuple[int, int]],
                 pad_if_needed: bool = False,
                 pad_val: int = 0,
                 seg_pad_val: int = 0) -> None:
        self.crop_size = _as_hw(crop_size, 'crop_size', 'PairedRandomCrop')
        self.pad_if_needed = pad_if_needed
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    @staticmethod
    def _pad(arr: np.ndarray, pad_h: int, pad_w: int,
             value: int) -> np.ndarray:
        widths = ((0, pad_h), (0, pad_w)) + ((0, 0), ) * (arr.ndim - 2)
        return np.pad(arr, widths, mode='constant', constant_values=value)

    def transform(self, results: dict) -> dict:
        mods, seg_keys, (h, w) = aligned_keys(results, 'PairedRandomCrop')
        ch, cw = self.crop_size
        if h < ch or w < cw:
            if not self.pad_if_needed:
                raise ValueError(
                    f'PairedRandomCrop: {_describe(results)} is {h}x{w} '
                    f'(HxW), smaller than crop_size {ch}x{cw}; expected '
                    'images at least as large as the crop. Set '
                    'pad_if_needed=True to pad them.')
            pad_h, pad_w = max(ch - h, 0), max(cw - w, 0)
            for key in mods:
                results[key] = self._pad(results[key], pad_h, pad_w,
                                         self.pad_val)
            for key in seg_keys:
                results[key] = self._pad(results[key], pad_h, pad_w,
                                         self.seg_pad_val)
            h, w = h + pad_h, w + pad_w
        y1 = int(np.random.randint(0, h - ch + 1))
        x1 = int(np.random.randint(0, w - cw + 1))
        for key in mods + seg_keys:
            results[key] = np.ascontiguousarray(
                results[key][y1:y1 + ch, x1:x1 + cw])
        results['crop_bbox'] = (x1, y1, x1 + cw, y1 + ch)
        results['img_shape'] = (ch, cw)
        crop_boxes(results, results['crop_bbox'], 'PairedRandomCrop')
        return results

    __repr__ = attr_repr


@TRANSFORMS.register_module()
class PairedRandomFlip(BaseTransform):
    """Flip every modality the same way, at random, as
    :class:`mmcv.transforms.RandomFlip` draws (``prob`` split over a list of
    directions, or one probability per direction). Adds ``flip`` and
    ``flip_direction``.

    Args:
        prob (float | list[float]): flip probability. Defaults to 0.5.
        direction (str | list[str]): ``'horizontal'``, ``'vertical'``,
            ``'diagonal'`` or a list of them. Defaults to 'horizontal'.
    """

    def __init__(self,
                 prob: Union[float, Sequence[float]] = 0.5,
                 direction: Union[str, Sequence[str]] = 'horizontal') -> None:
        directions = [direction] if isinstance(direction, str) else list(
            direction)
        if not directions or any(d not in FLIP_DIRECTIONS
                                 for d in directions):
            raise ValueError(f'PairedRandomFlip: direction must be one of '
                             f'{FLIP_DIRECTIONS} or a list of them, got '
                             f'{direction!r}.')
        if isinstance(prob, (list, tuple)):
            probs = [float(p) for p in prob]
            if len(probs) != len(directions):
                raise ValueError(
                    f'PairedRandomFlip: prob {prob!r} must have one entry '
                    f'per direction {directions}.')
        else:
            probs = [float(prob) / len(directions)] * len(directions)
        if any(p < 0 for p in probs) or sum(probs) > 1 + 1e-9:
            raise ValueError('PairedRandomFlip: probabilities must be >= 0 '
                             f'and sum to at most 1, got {prob!r}.')
        self.prob = prob
        self.direction = direction
        self._directions = directions
        self._probs = probs + [max(0.0, 1.0 - sum(probs))]

    def transform(self, results: dict) -> dict:
        mods, seg_keys, shape = aligned_keys(results, 'PairedRandomFlip')
        choice = int(np.random.choice(len(self._probs), p=self._probs))
        direction = (self._directions[choice]
                     if choice < len(self._directions) else None)
        if direction is not None:
            for key in mods + seg_keys:
                results[key] = np.ascontiguousarray(
                    mmcv.imflip(results[key], direction))
            flip_boxes(results, shape, direction, 'PairedRandomFlip')
        results['flip'] = direction is not None
        results['flip_direction'] = direction
        return results

    __repr__ = attr_repr


@TRANSFORMS.register_module()
class PairedRandomRot90(BaseTransform):
    """Rotate every modality by the same random ``k * 90`` degrees
    counter-clockwise: with probability ``prob``, ``k`` uniform in {1, 2,
    3}, else 0. Adds ``rot90_k``.

    Args:
        prob (float): probability to rotate. Defaults to 0.5.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(
                f'PairedRandomRot90: prob must be in [0, 1], got {prob!r}.')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        mods, seg_keys, (h, w) = aligned_keys(results, 'PairedRandomRot90')
        k = int(np.random.randint(1, 4)) if np.random.rand() < self.prob \
            else 0
        if k:
            for key in mods + seg_keys:
                results[key] = np.ascontiguousarray(
                    np.rot90(results[key], k, axes=(0, 1)))
            rot90_boxes(results, (h, w), k, 'PairedRandomRot90')
            if k % 2:
                h, w = w, h
        results['rot90_k'] = k
        results['img_shape'] = (h, w)
        return results

    __repr__ = attr_repr


@TRANSFORMS.register_module()
class PairedResize(BaseTransform):
    """Resize every modality to the same size (``seg_fields`` maps with
    nearest-neighbour); boxes are scaled. Adds ``scale`` (``(w, h)``),
    ``scale_factor`` (``(w_out / w_in, h_out / h_in)``) and ``keep_ratio``
    as :class:`mmcv.transforms.Resize`.

    Args:
        scale (int | tuple[int, int], optional): target ``(w, h)``; with
            ``keep_ratio`` the bounds of :func:`mmcv.imrescale`.
        scale_factor (float | tuple[float, float], optional): factor or
            ``(w_factor, h_factor)``. Exactly one of the two is given.
        keep_ratio (bool): Defaults to False.
        interpolation (str): one of :data:`INTERPOLATIONS`. Defaults to
            'bilinear'.
    """

    def __init__(self,
                 scale: Optional[Union[int, Tuple[int, int]]] = None,
                 scale_factor: Optional[Union[float, Tuple[float,
                                                           float]]] = None,
                 keep_ratio: bool = False,
                 interpolation: str = 'bilinear') -> None:
        if (scale is None) == (scale_factor is None):
            raise ValueError('PairedResize: give exactly one of scale and '
                             f'scale_factor, got scale={scale!r}, '
                             f'scale_factor={scale_factor!r}.')
        if scale is not None:
            scale = _as_hw(scale, 'scale', 'PairedResize')
        else:
            factors = (scale_factor if isinstance(scale_factor, (tuple, list))
                       else (scale_factor, scale_factor))
            if len(factors) != 2 or not all(
                    isinstance(f, (int, float)) and f > 0 for f in factors):
                raise ValueError(
                    'PairedResize: scale_factor must be a positive number or '
                    f'a pair (w_factor, h_factor), got {scale_factor!r}.')
            if keep_ratio and factors[0] != factors[1]:
                raise ValueError(
                    'PairedResize: keep_ratio=True contradicts the unequal '
                    f'scale_factor {scale_factor!r}.')
            scale_factor = (float(factors[0]), float(factors[1]))
        check_choice('PairedResize', 'interpolation', interpolation,
                     INTERPOLATIONS)
        self.scale = scale
        self.scale_factor = scale_factor
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation

    def _out_size(self, w: int, h: int) -> Tuple[int, int]:
        if self.scale is not None:
            if self.keep_ratio:
                return mmcv.rescale_size((w, h), self.scale)
            return self.scale
        fw, fh = self.scale_factor
        return max(1, int(w * fw + 0.5)), max(1, int(h * fh + 0.5))

    @staticmethod
    def resize(arr: np.ndarray, size: Tuple[int, int],
               interpolation: int) -> np.ndarray:
        """Resize an ``(H, W[, C])`` array to ``size = (w, h)``."""
        if arr.ndim == 3 and (arr.shape[2] == 0 or arr.shape[2] > 512):
            # OpenCV takes 1-512 channels (instance masks: one per object)
            return np.concatenate(
                [np.zeros((size[1], size[0], 0), arr.dtype)] + [
                    PairedResize.resize(arr[..., i:i + 512], size,
                                        interpolation)
                    for i in range(0, arr.shape[2], 512)
                ],
                axis=2)
        out = cv2.resize(
            np.ascontiguousarray(arr), size, interpolation=interpolation)
        if arr.ndim == 3 and out.ndim == 2:  # OpenCV drops a size-1 channel
            out = out[..., None]
        return out

    def transform(self, results: dict) -> dict:
        mods, seg_keys, (h, w) = aligned_keys(results, 'PairedResize')
        new_w, new_h = self._out_size(w, h)
        for key in mods:
            results[key] = self.resize(results[key], (new_w, new_h),
                                       INTERPOLATIONS[self.interpolation])
        for key in seg_keys:
            results[key] = self.resize(results[key], (new_w, new_h),
                                       cv2.INTER_NEAREST)
        results['img_shape'] = (new_h, new_w)
        results['scale'] = (new_w, new_h)
        results['scale_factor'] = (new_w / w, new_h / h)
        rescale_boxes(results, results['scale_factor'], 'PairedResize')
        results['keep_ratio'] = self.keep_ratio
        return results

    __repr__ = attr_repr
