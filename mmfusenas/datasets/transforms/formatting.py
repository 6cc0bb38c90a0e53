"""Packing of loaded multi-modality samples into model inputs."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmfusenas.registry import TRANSFORMS
from mmfusenas.structures import FusionDataSample

FUSION_META_KEYS = ('sample_idx', 'stem', 'img_path', 'ori_shape',
                    'img_shape', 'modalities', 'color_modality', 'flip',
                    'flip_direction', 'rot90_k', 'crop_bbox', 'scale_factor',
                    'warped_modality')


def attr_repr(self) -> str:
    """``Name(attr=value, ...)`` of the public attributes: the
    ``__repr__`` of the transforms."""
    args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items()
                     if not k.startswith('_'))
    return f'{type(self).__name__}({args})'


def pack_gt_flow(results: dict, sample) -> None:
    """Set ``sample.gt_flow`` (``float32 (2, H, W)``) from ``gt_flow``."""
    flow = results.get('gt_flow')
    if flow is not None:
        sample.gt_flow = torch.from_numpy(
            np.ascontiguousarray(flow.transpose(2, 0, 1), np.float32))


@TRANSFORMS.register_module()
class PackFusionInputs(BaseTransform):
    """Pack the modality arrays and the meta information for the model.

    Returns ``dict(inputs={modality: uint8 (C, H, W) tensor},
    data_samples=FusionDataSample)`` (values unchanged; the data
    preprocessor scales them); the metainfo holds the ``meta_keys``
    present, and ``gt_flow`` is packed when the sample has one.

    Args:
        meta_keys (Sequence[str]): Defaults to :data:`FUSION_META_KEYS`.
    """

    def __init__(self, meta_keys: Sequence[str] = FUSION_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        modalities = results.get('modalities')
        if not modalities:
            raise KeyError('PackFusionInputs: results["modalities"] is '
                           'missing; run LoadPairedImages first.')
        inputs = {}
        for mod in modalities:
            img = results.get(mod)
            if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
                raise TypeError(
                    f'PackFusionInputs: results[{mod!r}] must be an (H, W) '
                    f'or (H, W, C) numpy array, got {type(img).__name__}'
                    f'{getattr(img, "shape", "")}.')
            if img.ndim == 2:
                img = img[..., None]
            inputs[mod] = torch.from_numpy(
                np.ascontiguousarray(img.transpose(2, 0, 1)))
        metainfo = {k: results[k] for k in self.meta_keys if k in results}
        sample = FusionDataSample(metainfo=metainfo)
        pack_gt_flow(results, sample)
        return dict(inputs=inputs, data_samples=sample)

    __repr__ = attr_repr
