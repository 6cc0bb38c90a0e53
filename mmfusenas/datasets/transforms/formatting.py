"""Packing of loaded multi-modality samples into model inputs."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmfusenas.registry import TRANSFORMS
from mmfusenas.structures import FusionDataSample

#: Default metainfo keys of :class:`PackFusionInputs` (and the fusion part of
#: the detection / segmentation packers).
FUSION_META_KEYS = ('sample_idx', 'stem', 'img_path', 'ori_shape',
                    'img_shape', 'modalities', 'color_modality', 'flip',
                    'flip_direction', 'rot90_k', 'crop_bbox', 'scale_factor',
                    'warped_modality')


def pack_gt_flow(results: dict, sample) -> None:
    """Set ``sample.gt_flow`` ``float32 (2, H, W)`` from the ``(H, W, 2)``
    field of :class:`~mmfusenas.datasets.transforms.
    RandomElasticAffineWarp`, when the sample has one."""
    flow = results.get('gt_flow')
    if flow is not None:
        sample.gt_flow = torch.from_numpy(
            np.ascontiguousarray(flow.transpose(2, 0, 1), np.float32))


@TRANSFORMS.register_module()
class PackFusionInputs(BaseTransform):
    """Pack the modality arrays and the meta information for the model.

    Every modality array ``(H, W, C)`` becomes a C-contiguous ``torch.uint8``
    tensor ``(C, H, W)`` (values unchanged: scaling to ``[0, 1]`` and the
    YCbCr split happen in the data preprocessor). ``seg_fields`` maps are
    not packed; :class:`PackFusionDetInputs` / :class:`PackFusionSegInputs`
    pack the detection / segmentation annotations. A synthetic
    misalignment's ``gt_flow`` (:class:`RandomElasticAffineWarp`) becomes
    the data sample's ``gt_flow`` ``(2, H, W)``.

    Required keys: ``modalities`` and one array per modality.

    Returns ``dict(inputs=..., data_samples=...)``:

    - inputs (dict[str, Tensor]): modality -> ``uint8`` tensor
      ``(C, H, W)``, in ``modalities`` order.
    - data_samples (:obj:`FusionDataSample`): metainfo = the ``meta_keys``
      present in ``results`` (absent keys, e.g. ``flip`` without a flip
      transform, are left out).

    Args:
        meta_keys (Sequence[str]): Keys of ``results`` copied into the data
            sample's metainfo. Defaults to ``('sample_idx', 'stem',
            'img_path', 'ori_shape', 'img_shape', 'modalities',
            'color_modality', 'flip', 'flip_direction', 'rot90_k',
            'crop_bbox', 'scale_factor')``.
    """

    def __init__(self, meta_keys: Sequence[str] = FUSION_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack ``results``.

        Args:
            results (dict): Result dict from the pipeline.

        Returns:
            dict: ``dict(inputs=dict[str, Tensor], data_samples=
            FusionDataSample)``.
        """
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

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
