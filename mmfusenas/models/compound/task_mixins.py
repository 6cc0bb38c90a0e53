"""The task side of the compound models: MMDetection or MMSegmentation.

A compound model is ``<Task>Mixin`` + a pre-module base class
(:class:`~mmfusenas.models.compound.BaseFusionTaskModel`,
:class:`~mmfusenas.models.compound.BaseSceneTaskModel`); the mixin says how
the task model is called on the normalised task input.
"""
from typing import List

import torch
from mmengine.structures import PixelData

from .base_pre_task_model import LossDict, pad_hw


class DetTaskMixin:
    """Task side of a detector (``self.detector``, mmdet).

    The detector is any mmdet detector with ``loss(inputs, data_samples)``
    / ``predict(inputs, data_samples, rescale)`` (RetinaNet, SSD, FCOS,
    Faster R-CNN, ...), given as ``detector``; ``predict`` rescales the
    boxes to ``ori_shape`` when ``rescale`` (option, default True) is set
    (what the COCO / VOC metrics expect).

    Args:
        detector (dict | nn.Module): mmdet detector config (``_scope_``
            defaults to ``'mmdet'``; no ``data_preprocessor``: the compound
            model normalises the task input itself).
        rescale (bool): rescale predicted boxes to ``ori_shape``. Defaults
            to True.
    """

    task_attr = 'detector'
    task_scope = 'mmdet'

    def __init__(self, *args, rescale: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rescale = rescale

    def _task_loss(self, task_inputs: torch.Tensor,
                   data_samples: List) -> LossDict:
        return self.detector.loss(task_inputs, data_samples)

    def _task_predict(self, task_inputs: torch.Tensor,
                      data_samples: List) -> List:
        return self.detector.predict(
            task_inputs, data_samples, rescale=self.rescale)


class SegTaskMixin:
    """Task side of a segmentor (``self.segmentor``, mmseg), given as
    ``segmentor``.

    Padding, as mmseg's ``SegDataPreProcessor`` does it: in training the
    label maps are padded at the bottom / right to the padded batch size
    with the decode head's ``ignore_index`` (in place, idempotent); in
    ``predict`` every sample gets ``padding_size = [0, W - w, 0, H - h]``,
    which mmseg uses to cut the padding off the logits before resizing them
    to ``ori_shape``. The label maps are left unpadded there, as
    ``IoUMetric`` compares them with the prediction at ``ori_shape`` (so a
    test pipeline must not resize; mmseg's own test pipelines load the
    labels after resizing for that reason).
    """

    task_attr = 'segmentor'
    task_scope = 'mmseg'

    @property
    def ignore_index(self) -> int:
        """Label of the padded pixels: the decode head's ``ignore_index``."""
        head = getattr(self.segmentor, 'decode_head', None)
        return getattr(head, 'ignore_index', 255)

    def _task_loss(self, task_inputs: torch.Tensor,
                   data_samples: List) -> LossDict:
        shape = tuple(task_inputs.shape[-2:])
        for sample in data_samples:
            if 'gt_sem_seg' not in sample:
                raise KeyError(
                    f'{type(self).__name__}: sample '
                    f"{sample.get('stem', sample.get('img_path'))!r} has no "
                    'gt_sem_seg; load the label maps in the pipeline '
                    '(LoadPairedAnnotations(with_seg=True) + '
                    'PackFusionSegInputs, or mmseg LoadAnnotations + '
                    'PackSegInputs)')
            seg = sample.gt_sem_seg
            if tuple(seg.shape) != shape:
                sample.gt_sem_seg = PixelData(
                    data=pad_hw(seg.data, shape, self.ignore_index),
                    metainfo=seg.metainfo)
        return self.segmentor.loss(task_inputs, data_samples)

    def _task_predict(self, task_inputs: torch.Tensor,
                      data_samples: List) -> List:
        height, width = task_inputs.shape[-2:]
        for sample in data_samples:
            h, w = sample.img_shape[:2]
            sample.set_metainfo(
                dict(padding_size=[0, int(width - w), 0, int(height - h)]))
        return self.segmentor.predict(task_inputs, data_samples)
