"""Fusion network + MMSegmentation segmentor, trained together."""
from typing import Optional, Sequence

from mmfusenas.registry import MODELS
from .base_fusion_task_model import (IMAGENET_MEAN, IMAGENET_STD,
                                     BaseFusionTaskModel, ConfigType)
from .module_checkpoint import ModuleInit
from .task_mixins import SegTaskMixin


@MODELS.register_module()
class FusionSegmentor(SegTaskMixin, BaseFusionTaskModel):
    """Fusion-then-segmentation: N_F feeds a real MMSegmentation segmentor.

    The segmentor (``EncoderDecoder`` with an FCN / ASPP / DeepLabV3+ /
    :class:`~mmfusenas.models.SearchableDistillationHead` decoder, ...) is
    built from the ``segmentor`` config in scope ``mmseg`` and receives the
    fused image, normalised (see :class:`BaseFusionTaskModel`), with the
    batch's :class:`~mmseg.structures.SegDataSample` s (from
    :class:`~mmfusenas.datasets.transforms.PackFusionSegInputs`).

    Padding of the label maps and predictions: see
    :class:`~mmfusenas.models.compound.task_mixins.SegTaskMixin`.

    Losses are mmseg's (``decode.loss_ce``, ``decode.acc_seg``,
    ``aux.loss_ce``, ...) plus ``fusion.<loss_name>`` (η-weighted) and
    ``fusion.eta``. ``predict`` returns the data samples with
    ``pred_sem_seg`` / ``seg_logits``, ``pred_fused`` and, with a colour
    source, ``pred_fused_rgb``.

    Args:
        fusion_net (dict | nn.Module): N_F (fixed, ``GenotypeNet`` or a
            supernet inside a ``BilevelSearchAlgorithm``).
        segmentor (dict | nn.Module): mmseg segmentor config (``_scope_``
            defaults to ``'mmseg'``; no ``data_preprocessor``).
        fusion_losses (Sequence[dict | nn.Module]): ℓ_F terms.
        fusion_loss_weight (float): η. Defaults to 1.0.
        fused_color (str): ``'rgb'`` or ``'gray'``. Defaults to 'rgb'.
        mean (Sequence[float]): segmentor input mean, [0, 255] units, R, G,
            B. Defaults to ImageNet's.
        std (Sequence[float]): segmentor input std, [0, 255] units.
            Defaults to ImageNet's.
        fusion_init (str | dict, optional): N_F checkpoint (see
            :class:`BaseFusionTaskModel`). Defaults to None.
        freeze_fusion (bool): start with N_F frozen. Defaults to False.
        check_finite (bool): NaN / Inf check of every loss. Defaults to
            True.
        data_preprocessor (dict | nn.Module, optional): defaults to
            ``FusionDataPreprocessor(pad_size_divisor=32)``.
        init_cfg (dict, optional): weight initialisation config.
    """

    def __init__(self,
                 fusion_net: ConfigType,
                 segmentor: ConfigType,
                 fusion_losses: Sequence[ConfigType] = (),
                 fusion_loss_weight: float = 1.0,
                 fused_color: str = 'rgb',
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 fusion_init: Optional[ModuleInit] = None,
                 freeze_fusion: bool = False,
                 check_finite: bool = True,
                 data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            fusion_net=fusion_net,
            task_model=segmentor,
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
