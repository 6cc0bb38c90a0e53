"""Helpers shared by the tests and the benchmarks (small model configs)."""
from .task_models import (BACKBONES, RETINA_TEST, RETINA_TRAIN, SIZE,
                          distillation_neck, encoder_decoder, faster_rcnn,
                          fcos, fpn, mask_rcnn, resnet, retina_head,
                          retinanet, seg_backbone, seg_head, ssd,
                          ssd_train_cfg, toy_retinanet)

__all__ = [
    'BACKBONES', 'RETINA_TEST', 'RETINA_TRAIN', 'SIZE', 'distillation_neck',
    'encoder_decoder', 'faster_rcnn', 'fcos', 'fpn', 'mask_rcnn', 'resnet',
    'retina_head', 'retinanet', 'seg_backbone', 'seg_head', 'ssd',
    'ssd_train_cfg', 'toy_retinanet'
]
