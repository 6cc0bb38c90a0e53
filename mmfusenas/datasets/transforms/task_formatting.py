"""Packing of paired samples with detection / segmentation ground truth.

The modalities are packed exactly as by :class:`PackFusionInputs` (so
:class:`~mmfusenas.models.FusionDataPreprocessor` batches them the same way);
the annotations go into MMDetection's :class:`~mmdet.structures.DetDataSample`
or MMSegmentation's :class:`~mmseg.structures.SegDataSample`, which also carry
the fusion metainfo (``modalities``, ``color_modality``, ...).
"""
from typing import Optional, Sequence

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from mmfusenas.registry import TRANSFORMS
from .formatting import (FUSION_META_KEYS, PackFusionInputs,
                         pack_gt_flow)

#: Default metainfo keys of :class:`PackFusionDetInputs`.
DET_META_KEYS = FUSION_META_KEYS + ('img_id', 'ann_path', 'num_dropped_boxes',
                                    'instances')
#: Default metainfo keys of :class:`PackFusionSegInputs`.
SEG_META_KEYS = FUSION_META_KEYS + ('seg_map_path', 'reduce_zero_label')
BOX_TYPES = (None, 'hbox')


@TRANSFORMS.register_module()
class PackFusionDetInputs(PackFusionInputs):
    """Pack the modalities and the boxes for a fusion + mmdet detector model.

    Returns ``dict(inputs=..., data_samples=...)``:

    - inputs (dict[str, Tensor]): modality -> ``uint8`` tensor ``(C, H, W)``
      as :class:`PackFusionInputs`.
    - data_samples (:obj:`mmdet.structures.DetDataSample`):

      - ``gt_instances``: ``bboxes`` (``float32 (N, 4)`` ``(x1, y1, x2,
        y2)`` in the frame of the packed images) and ``labels`` (``int64
        (N, )``) of the boxes whose ignore flag is 0;
      - ``ignored_instances``: the same for the boxes flagged ignore (what
        mmdet's ``VOCMetric`` reads as ``bboxes_ignore``);
      - with ``gt_masks`` in ``results`` (``LoadPairedAnnotations(
        with_mask=True)``), both also get ``masks``: mmdet
        :class:`~mmdet.structures.mask.BitmapMasks` at the packed size;
      - metainfo: the ``meta_keys`` present in ``results``, plus
        ``scale_factor = (1.0, 1.0)`` when no resize set it (mmdet's heads
        divide predictions by it when rescaling to ``ori_shape``).

    With the default ``meta_keys`` the metainfo holds the fusion keys of
    :class:`PackFusionInputs` plus ``img_id`` and ``ori_shape`` (what mmdet's
    ``CocoMetric`` reads), ``instances`` (the dataset's boxes in the
    original image frame: ``CocoMetric`` without an ``ann_file`` builds its
    ground truth from them, ``ignore_flag`` becoming ``iscrowd``),
    ``ann_path`` and ``num_dropped_boxes`` (boxes removed by crops).
    ``pad_shape`` / ``batch_input_shape`` are added by the data
    preprocessor. ``gt_seg_map`` is not packed here (use
    :class:`PackFusionSegInputs`).

    Without ``gt_bboxes`` / ``gt_bboxes_labels`` in ``results`` (inference
    on unlabelled pairs) both instance sets are empty.

    Args:
        meta_keys (Sequence[str]): Keys of ``results`` copied into the
            metainfo when present. Defaults to :data:`DET_META_KEYS`.
        box_type (str, optional): ``None`` packs the boxes as plain
            ``float32`` tensors (what mmdet's heads receive after
            ``DetDataPreprocessor``'s default ``boxtype2tensor=True``, and
            what every head accepts); ``'hbox'`` packs mmdet
            :class:`~mmdet.structures.bbox.HorizontalBoxes` (what mmdet's
            own ``PackDetInputs`` produces, for code that needs box
            types). Defaults to None.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = DET_META_KEYS,
                 box_type: Optional[str] = None) -> None:
        super().__init__(meta_keys)
        if box_type not in BOX_TYPES:
            raise ValueError(f'PackFusionDetInputs: box_type must be one of '
                             f'{BOX_TYPES}, got {box_type!r}.')
        self.box_type = box_type

    def _boxes(self, boxes: np.ndarray):
        tensor = torch.from_numpy(
            np.ascontiguousarray(boxes, dtype=np.float32).reshape(-1, 4))
        return HorizontalBoxes(tensor) if self.box_type == 'hbox' else tensor

    def transform(self, results: dict) -> dict:
        """Pack ``results``.

        Args:
            results (dict): Result dict from the pipeline.

        Returns:
            dict: ``dict(inputs=dict[str, Tensor], data_samples=
            DetDataSample)``.
        """
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

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(meta_keys={self.meta_keys}, '
                f'box_type={self.box_type!r})')


@TRANSFORMS.register_module()
class PackFusionSegInputs(PackFusionInputs):
    """Pack the modalities and the label map for a fusion + mmseg model.

    Returns ``dict(inputs=..., data_samples=...)``:

    - inputs (dict[str, Tensor]): modality -> ``uint8`` tensor ``(C, H, W)``
      as :class:`PackFusionInputs`.
    - data_samples (:obj:`mmseg.structures.SegDataSample`): ``gt_sem_seg``
      = ``PixelData(data=int64 (1, H, W))`` from ``gt_seg_map`` (as mmseg's
      ``PackSegInputs``; absent when ``results`` has no ``gt_seg_map``), and
      the ``meta_keys`` present in ``results`` as metainfo.

    The label map is not padded: mmseg's decode heads stack the
    ``gt_sem_seg`` of a batch, so a model batching samples of different
    sizes pads them (with the ignore index) as mmseg's
    ``SegDataPreProcessor`` does.

    Args:
        meta_keys (Sequence[str]): Keys of ``results`` copied into the
            metainfo when present. Defaults to :data:`SEG_META_KEYS` (the
            fusion keys plus ``seg_map_path`` and ``reduce_zero_label``).
    """

    def __init__(self, meta_keys: Sequence[str] = SEG_META_KEYS) -> None:
        super().__init__(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack ``results``.

        Args:
            results (dict): Result dict from the pipeline.

        Returns:
            dict: ``dict(inputs=dict[str, Tensor], data_samples=
            SegDataSample)``.
        """
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
