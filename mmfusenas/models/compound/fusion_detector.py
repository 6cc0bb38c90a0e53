"""Fusion network + MMDetection detector, trained together."""
from typing import Optional, Sequence

from mmfusenas.registry import MODELS
from .base_fusion_task_model import (IMAGENET_MEAN, IMAGENET_STD,
                                     BaseFusionTaskModel, ConfigType)
from .module_checkpoint import ModuleInit
from .task_mixins import DetTaskMixin


@MODELS.register_module()
class FusionDetector(DetTaskMixin, BaseFusionTaskModel):
    """Fusion-then-detection: N_F feeds a real MMDetection detector.

    The detector (any mmdet detector with ``loss(inputs, data_samples)`` /
    ``predict(inputs, data_samples, rescale)``: RetinaNet, SSD, FCOS, Faster
    R-CNN, ...) is built from the ``detector`` config in scope ``mmdet``
    and receives the fused image, normalised (see
    :class:`BaseFusionTaskModel`), with the batch's
    :class:`~mmdet.structures.DetDataSample` s (from
    :class:`~mmfusenas.datasets.transforms.PackFusionDetInputs`). Losses are
    mmdet's (``loss_cls``, ``loss_bbox``, ...) plus ``fusion.<loss_name>``
    (η-weighted) and ``fusion.eta``. ``predict`` returns the data samples
    with ``pred_instances`` (rescaled to ``ori_shape``), ``pred_fused`` and,
    with a colour source, ``pred_fused_rgb``.

    Example::

        model = dict(
            type='FusionDetector',
            fusion_net=dict(type='SimpleFusionNet', in_channels=2),
            detector=dict(type='RetinaNet', backbone=..., neck=...,
                          bbox_head=..., train_cfg=..., test_cfg=...),
            fusion_losses=[dict(type='MaxIntensityLoss'),
                           dict(type='MaxGradientLoss', loss_weight=2.0)],
            fusion_loss_weight=0.5)

    Args:
        fusion_net (dict | nn.Module): N_F (fixed, ``GenotypeNet`` or a
            supernet inside a ``BilevelSearchAlgorithm``).
        detector (dict | nn.Module): mmdet detector config (``_scope_``
            defaults to ``'mmdet'``; no ``data_preprocessor``).
        fusion_losses (Sequence[dict | nn.Module]): ℓ_F terms.
        fusion_loss_weight (float): η. Defaults to 1.0.
        fused_color (str): ``'rgb'`` (fused Y + VIS chroma) or ``'gray'``
            (replicated). Defaults to 'rgb'.
        mean (Sequence[float]): detector input mean, [0, 255] units, R, G,
            B. Defaults to ImageNet's.
        std (Sequence[float]): detector input std, [0, 255] units.
            Defaults to ImageNet's.
        fusion_init (str | dict, optional): N_F checkpoint (see
            :class:`BaseFusionTaskModel`). Defaults to None.
        freeze_fusion (bool): start with N_F frozen. Defaults to False.
        rescale (bool): rescale predicted boxes to ``ori_shape`` (what the
            COCO / VOC metrics expect). Defaults to True.
        check_finite (bool): NaN / Inf check of every loss. Defaults to
            True.
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``FusionDataPreprocessor(pad_size_divisor=32)``.
        init_cfg (dict, optional): weight initialisation config.
    """

    def __init__(self,
                 fusion_net: ConfigType,
                 detector: ConfigType,
                 fusion_losses: Sequence[ConfigType] = (),
                 fusion_loss_weight: float = 1.0,
                 fused_color: str = 'rgb',
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 fusion_init: Optional[ModuleInit] = None,
                 freeze_fusion: bool = False,
                 rescale: bool = True,
                 check_finite: bool = True,
                 data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            fusion_net=fusion_net,
            task_model=detector,
            fusion_losses=fusion_losses,
            fusion_loss_weight=fusion_loss_weight,
            fused_color=fused_color,
            mean=mean,
            std=std,
            fusion_init=fusion_init,
            freeze_fusion=freeze_fusion,
            check_finite=check_finite,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.rescale = rescale
