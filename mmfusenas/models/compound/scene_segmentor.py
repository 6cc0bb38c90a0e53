"""Low-light scene module + MMSegmentation segmentor, trained together."""
from typing import Optional, Sequence

from mmfusenas.registry import MODELS
from .base_pre_task_model import IMAGENET_MEAN, IMAGENET_STD, ConfigType
from .base_scene_task_model import BaseSceneTaskModel
from .module_checkpoint import ModuleInit
from .task_mixins import SegTaskMixin


@MODELS.register_module()
class SceneSegmentor(SegTaskMixin, BaseSceneTaskModel):
    """RUAS low-light segmentation: scene module → a real mmseg segmentor.

    See :class:`~mmfusenas.models.compound.BaseSceneTaskModel` for the
    scene side. The segmentor (DeepLabV3+ in the paper, with its feature
    conversion searched: ``mmfusenas.SearchableASPPHead``; any mmseg
    segmentor works) is built from ``segmentor`` in scope ``mmseg`` and gets
    the normalised enhanced image with the batch's ``SegDataSample`` s
    (mmseg ``PackSegInputs``). Label padding and ``padding_size``: see
    :class:`~mmfusenas.models.compound.task_mixins.SegTaskMixin`.
    ``predict`` returns the samples with ``pred_sem_seg`` / ``seg_logits``
    and ``pred_img``.

    Args:
        scene_net (dict | nn.Module): the scene module.
        segmentor (dict | nn.Module): mmseg segmentor config (``_scope_``
            defaults to ``'mmseg'``; no ``data_preprocessor``).
        scene_losses (Sequence[dict | nn.Module]): ℓ_s terms. Defaults to
            ().
        scene_loss_weight (float): λ. Defaults to 1.0.
        mean (Sequence[float]): segmentor input mean, [0, 255] units, R,
            G, B. Defaults to ImageNet's.
        std (Sequence[float]): segmentor input std. Defaults to ImageNet's.
        scene_init (str | dict, optional): scene-module checkpoint.
            Defaults to None.
        freeze_scene (bool): start with the scene module frozen. Defaults
            to False.
        check_finite (bool): NaN / Inf check of every loss. Defaults to
            True.
        data_preprocessor (dict | nn.Module, optional): defaults to mmseg's
            ``SegDataPreProcessor`` with ``mean=0``, ``std=255``,
            ``bgr_to_rgb=True``, ``size_divisor=32``, ``seg_pad_val=255``
            (also at test time).
        init_cfg (dict, optional): weight initialisation config.
    """

    default_data_preprocessor = dict(
        type='mmseg.SegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        size_divisor=32,
        pad_val=0,
        seg_pad_val=255,
        test_cfg=dict(size_divisor=32))

    def __init__(self,
                 scene_net: ConfigType,
                 segmentor: ConfigType,
                 scene_losses: Sequence[ConfigType] = (),
                 scene_loss_weight: float = 1.0,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 scene_init: Optional[ModuleInit] = None,
                 freeze_scene: bool = False,
                 check_finite: bool = True,
                 data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            scene_net=scene_net,
            task_model=segmentor,
            scene_losses=scene_losses,
            scene_loss_weight=scene_loss_weight,
            mean=mean,
            std=std,
            scene_init=scene_init,
            freeze_scene=freeze_scene,
            check_finite=check_finite,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
