"""Helpers of the tests only (small model configs, stand-in checkpoints,
the distributed scenarios, the official networks rebuilt for the parity
tests); not part of the package. ``tests/conftest.py`` puts ``tests/`` on
``sys.path`` (and ``PYTHONPATH``, for the processes a test starts). What the
tools and benchmarks share with the tests (toy data, the gloo launcher,
metric oracles) is :mod:`mmfusenas.testing`."""
from .stand_ins import (LogCapture, save_detecting_checkpoint,
                        save_seeded_checkpoint)
from .search_spaces import TINY_OPS, tiny_search_space
from .task_models import (BACKBONES, RETINA_TEST, RETINA_TRAIN, SIZE,
                          distillation_neck, encoder_decoder, faster_rcnn,
                          fcos, fpn, mask_rcnn, resnet, retina_head,
                          retinanet, seg_backbone, seg_head, ssd,
                          ssd_train_cfg)
from .tools import (REPO_ROOT, load_tool, tool_options, tool_parser,
                    tool_paths)

__all__ = [
    'BACKBONES', 'RETINA_TEST', 'RETINA_TRAIN', 'SIZE', 'distillation_neck',
    'encoder_decoder', 'faster_rcnn', 'fcos', 'fpn', 'mask_rcnn', 'resnet',
    'retina_head', 'retinanet', 'seg_backbone', 'seg_head', 'ssd',
    'ssd_train_cfg', 'TINY_OPS', 'tiny_search_space',
    'REPO_ROOT', 'load_tool', 'LogCapture', 'save_seeded_checkpoint',
    'save_detecting_checkpoint',
    'tool_options', 'tool_parser', 'tool_paths'
]
