"""Low-light scene module + MMDetection detector, trained together."""
from typing import Optional, Sequence

from mmfusenas.registry import MODELS
from .base_pre_task_model import IMAGENET_MEAN, IMAGENET_STD, ConfigType
from .base_scene_task_model import BaseSceneTaskModel
from .module_checkpoint import ModuleInit
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
        scene_net (dict | nn.Module): the scene module.
        detector (dict | nn.Module): mmdet detector config (``_scope_``
            defaults to ``'mmdet'``; no ``data_preprocessor``).
        scene_losses (Sequence[dict | nn.Module]): ℓ_s terms. Defaults to
            ().
        scene_loss_weight (float): λ. Defaults to 1.0.
        mean (Sequence[float]): detector input mean, [0, 255] units, R, G,
            B. Defaults to ImageNet's.
        std (Sequence[float]): detector input std. Defaults to ImageNet's.
        scene_init (str | dict, optional): scene-module checkpoint.
            Defaults to None.
        freeze_scene (bool): start with the scene module frozen. Defaults
            to False.
        rescale (bool): rescale predicted boxes to ``ori_shape``. Defaults
            to True.
        check_finite (bool): NaN / Inf check of every loss. Defaults to
            True.
        data_preprocessor (dict | nn.Module, optional): defaults to mmdet's
            ``DetDataPreprocessor`` with ``mean=0``, ``std=255``,
            ``bgr_to_rgb=True``, ``pad_size_divisor=32`` (RGB in [0, 1]).
        init_cfg (dict, optional): weight initialisation config.
    """

    default_data_preprocessor = dict(
        type='mmdet.DetDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_size_divisor=32)

    def __init__(self,
                 scene_net: ConfigType,
                 detector: ConfigType,
                 scene_losses: Sequence[ConfigType] = (),
                 scene_loss_weight: float = 1.0,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 scene_init: Optional[ModuleInit] = None,
                 freeze_scene: bool = False,
                 rescale: bool = True,
                 check_finite: bool = True,
                 data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            scene_net=scene_net,
            task_model=detector,
            scene_losses=scene_losses,
            scene_loss_weight=scene_loss_weight,
            mean=mean,
            std=std,
            scene_init=scene_init,
            freeze_scene=freeze_scene,
            check_finite=check_finite,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.rescale = rescale
