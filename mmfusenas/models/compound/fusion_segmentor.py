"""Fusion network + MMSegmentation segmentor, trained together."""
from mmfusenas.registry import MODELS
from .base_fusion_task_model import BaseFusionTaskModel
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
        **options: ``fusion_net``, ``fusion_losses``,
            ``fusion_loss_weight`` and the rest of
            :class:`BaseFusionTaskModel`'s options.
        segmentor (dict | nn.Module): mmseg segmentor config (``_scope_``
            defaults to ``'mmseg'``; no ``data_preprocessor``).
    """
