"""Helpers shared by the tests and the benchmarks (small model configs,
stand-in checkpoints, the gloo launcher, reference implementations); not
part of the package. ``tests/conftest.py`` puts ``tests/`` on
``sys.path`` (and ``PYTHONPATH``, for the processes a test starts); a
benchmark or script adds it itself."""
from .stand_ins import (LogCapture, save_detecting_checkpoint,
                        save_seeded_checkpoint)
from .search_spaces import TINY_OPS, tiny_search_space
from .task_models import (BACKBONES, RETINA_TEST, RETINA_TRAIN, SIZE,
                          distillation_neck, encoder_decoder, faster_rcnn,
                          fcos, fpn, mask_rcnn, resnet, retina_head,
                          retinanet, seg_backbone, seg_head, ssd,
                          ssd_train_cfg, toy_retinanet)
from .tools import (REPO_ROOT, load_tool, tool_options, tool_parser,
                    tool_paths)

__all__ = [
    'BACKBONES', 'RETINA_TEST', 'RETINA_TRAIN', 'SIZE', 'distillation_neck',
    'encoder_decoder', 'faster_rcnn', 'fcos', 'fpn', 'mask_rcnn', 'resnet',
    'retina_head', 'retinanet', 'seg_backbone', 'seg_head', 'ssd',
    'ssd_train_cfg', 'toy_retinanet', 'TINY_OPS', 'tiny_search_space',
    'REPO_ROOT', 'load_tool', 'LogCapture', 'save_seeded_checkpoint',
    'save_detecting_checkpoint',
    'tool_options', 'tool_parser', 'tool_paths'
]
