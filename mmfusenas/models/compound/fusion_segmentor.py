"""Fusion network + MMSegmentation segmentor, trained together."""
from typing import List, Optional, Sequence

import torch
from mmengine.structures import PixelData

from mmfusenas.registry import MODELS
from .base_fusion_task_model import (IMAGENET_MEAN, IMAGENET_STD,
                                     BaseFusionTaskModel, ConfigType,
                                     LossDict, pad_hw)
from .fusion_checkpoint import FusionInit


@MODELS.register_module()
class FusionSegmentor(BaseFusionTaskModel):
    """Fusion-then-segmentation: N_F feeds a real MMSegmentation segmentor.

    The segmentor (``EncoderDecoder`` with an FCN / ASPP / DeepLabV3+ /
    :class:`~mmfusenas.models.SearchableDistillationHead` decoder, ...) is
    built from the ``segmentor`` config in scope ``mmseg`` and receives the
    fused image, normalised (see :class:`BaseFusionTaskModel`), with the
    batch's :class:`~mmseg.structures.SegDataSample` s (from
    :class:`~mmfusenas.datasets.transforms.PackFusionSegInputs`).

    Padding, as mmseg's ``SegDataPreProcessor`` does it: in training the
    label maps are padded at the bottom / right to the padded batch size
    with the decode head's ``ignore_index`` (in place, idempotent); in
    ``predict`` every sample gets ``padding_size = [0, W - w, 0, H - h]``,
    which mmseg uses to cut the padding off the logits before resizing them
    to ``ori_shape``. The label maps are left unpadded there, as
    ``IoUMetric`` compares them with the prediction at ``ori_shape`` (so a
    test pipeline must not resize; mmseg's own test pipelines load the
    labels after resizing for that reason).

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

    task_attr = 'segmentor'
    task_scope = 'mmseg'

    def __init__(self,
                 fusion_net: ConfigType,
                 segmentor: ConfigType,
                 fusion_losses: Sequence[ConfigType] = (),
                 fusion_loss_weight: float = 1.0,
                 fused_color: str = 'rgb',
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 fusion_init: Optional[FusionInit] = None,
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
                    f"FusionSegmentor: sample {sample.get('stem')!r} has no "
                    'gt_sem_seg; load it with LoadPairedAnnotations('
                    'with_seg=True) and pack with PackFusionSegInputs')
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
