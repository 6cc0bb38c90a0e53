"""Packing of paired samples with detection / segmentation ground truth
into mmdet's ``DetDataSample`` / mmseg's ``SegDataSample``."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from mmfusenas.registry import TRANSFORMS
from ..paired_image_dataset import check_choice
from .formatting import FUSION_META_KEYS, PackFusionInputs, pack_gt_flow

DET_META_KEYS = FUSION_META_KEYS + ('img_id', 'ann_path', 'num_dropped_boxes',
                                    'instances')
SEG_META_KEYS = FUSION_META_KEYS + ('seg_map_path', 'reduce_zero_label')


@TRANSFORMS.register_module()
class PackFusionDetInputs(PackFusionInputs):
    """Pack the modalities (as :class:`PackFusionInputs`) and the boxes into
    a ``DetDataSample``.

    ``gt_instances`` / ``ignored_instances`` hold the ``bboxes``, ``labels``
    (and ``BitmapMasks``) by ignore flag; ``scale_factor`` defaults to
    ``(1.0, 1.0)``.

    Args:
        meta_keys (Sequence[str]): Defaults to :data:`DET_META_KEYS`.
        box_type (str, optional): None packs plain ``float32`` tensors,
            ``'hbox'`` mmdet ``HorizontalBoxes``. Defaults to None.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = DET_META_KEYS,
                 box_type: Optional[str] = None) -> None:
        super().__init__(meta_keys)
        self.box_type = check_choice('PackFusionDetInputs', 'box_type',
                                     box_type, (None, 'hbox'))

    def _boxes(self, boxes: np.ndarray):
        tensor = torch.from_numpy(
            np.ascontiguousarray(boxes, dtype=np.float32).reshape(-1, 4))
        return HorizontalBoxes(tensor) if self.box_type == 'hbox' else tensor

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        metainfo = packed['data_samples'].metainfo
        metainfo.setdefault('scale_factor', (1.0, 1.0))
        sample = DetDataSample(metainfo=metainfo)
        pack_gt_flow(results, sample)

        boxes = results.get('gt_bboxes')
        labels = results.get('gt_bboxes_labels')
        lengths = {
            key: len(results[key])
            for key in ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags')
            if key in results
        }
        if len(set(lengths.values())) > 1:
            raise ValueError(
                'PackFusionDetInputs: the per-instance arrays of sample '
                f'{results.get("stem")!r} differ in length {lengths}; '
                'expected one entry per box.')
        num = next(iter(lengths.values()), 0)
        ignore = np.asarray(
            results.get('gt_ignore_flags', np.zeros(num, bool)), dtype=bool)
        gt, ignored = InstanceData(), InstanceData()
        if boxes is not None:
            gt.bboxes = self._boxes(boxes[~ignore])
            ignored.bboxes = self._boxes(boxes[ignore])
        if labels is not None:
            labels = np.asarray(labels, dtype=np.int64)
            gt.labels = torch.from_numpy(labels[~ignore])
            ignored.labels = torch.from_numpy(labels[ignore])
        masks = results.get('gt_masks')
        if masks is not None:
            if masks.ndim != 3 or masks.shape[2] != num:
                raise ValueError(
                    f'PackFusionDetInputs: gt_masks of sample '
                    f'{results.get("stem")!r} has shape {masks.shape}; '
                    f'expected (H, W, {num}), one channel per box.')
            # 1 = inside; 0 outside, 255 = padding of a crop
            inside = np.ascontiguousarray(masks.transpose(2, 0, 1) == 1)
            h, w = inside.shape[1:]
            gt.masks = BitmapMasks(inside[~ignore], h, w)
            ignored.masks = BitmapMasks(inside[ignore], h, w)
        sample.gt_instances = gt
        sample.ignored_instances = ignored
        return dict(inputs=packed['inputs'], data_samples=sample)


@TRANSFORMS.register_module()
class PackFusionSegInputs(PackFusionInputs):
    """Pack the modalities (as :class:`PackFusionInputs`) and the label map
    into a ``SegDataSample`` (``gt_sem_seg``: ``int64 (1, H, W)``, as mmseg's
    ``PackSegInputs``; not padded).

    Args:
        meta_keys (Sequence[str]): Defaults to :data:`SEG_META_KEYS`.
    """

    def __init__(self, meta_keys: Sequence[str] = SEG_META_KEYS) -> None:
        super().__init__(meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        sample = SegDataSample(metainfo=packed['data_samples'].metainfo)
        pack_gt_flow(results, sample)
        seg = results.get('gt_seg_map')
        if seg is not None:
            if not isinstance(seg, np.ndarray) or seg.ndim != 2:
                raise ValueError(
                    'PackFusionSegInputs: results["gt_seg_map"] of sample '
                    f'{results.get("stem")!r} must be an (H, W) array, got '
                    f'{type(seg).__name__}{getattr(seg, "shape", "")}.')
            sample.gt_sem_seg = PixelData(
                data=torch.from_numpy(seg[None].astype(np.int64)))
        return dict(inputs=packed['inputs'], data_samples=sample)
