"""Low-light scene module + MMDetection detector, trained together."""
from mmfusenas.registry import MODELS
from .base_scene_task_model import BaseSceneTaskModel
from .task_mixins import DetTaskMixin


@MODELS.register_module()
class SceneDetector(DetTaskMixin, BaseSceneTaskModel):
    """RUAS low-light detection: scene module → a real mmdet detector.

    See :class:`~mmfusenas.models.compound.BaseSceneTaskModel` for the
    scene side (losses ``scene.<name>``, λ, ``pred_img``). The detector
    (SSD in the paper, with its neck / head searched:
    ``mmfusenas.SearchableSSDNeck`` / ``mmfusenas.SearchableSSDHead``; any
    mmdet detector works) is built from ``detector`` in scope ``mmdet`` and
    gets the normalised enhanced image with the batch's ``DetDataSample`` s
    (mmdet ``PackDetInputs``). ``predict`` returns the samples with
    ``pred_instances`` (rescaled to ``ori_shape`` when ``rescale``) and
    ``pred_img``.

    Example::

        model = dict(
            type='SceneDetector',
            scene_net=dict(type='RUASNet', scene=dict(
                type='RUASIlluminationNet', ...)),
            detector=dict(type='SingleStageDetector', backbone=...,
                          neck=dict(type='SSDNeck', ...),
                          bbox_head=dict(type='mmfusenas.CompatSSDHead',
                                         ...)),
            scene_losses=[dict(type='RUASSceneLoss')],
            scene_loss_weight=0.1)

    Args:
        **options: the scene side's options (``scene_net``,
            ``scene_losses``, ``scene_loss_weight``, ...): see
            :class:`BaseSceneTaskModel`.
        detector, rescale: the task side, see :class:`DetTaskMixin`.
        data_preprocessor (dict | nn.Module, optional): defaults to mmdet's
            ``DetDataPreprocessor`` with ``mean=0``, ``std=255``,
            ``bgr_to_rgb=True``, ``pad_size_divisor=32`` (RGB in [0, 1]).
    """

    default_data_preprocessor = dict(
        type='mmdet.DetDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_size_divisor=32)
