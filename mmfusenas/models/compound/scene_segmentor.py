"""Low-light scene module + MMSegmentation segmentor, trained together."""
from mmfusenas.registry import MODELS
from .base_scene_task_model import BaseSceneTaskModel
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
        **options: ``scene_net``, ``scene_losses``, ``scene_loss_weight``
            and the rest of :class:`BaseSceneTaskModel`'s options.
        segmentor (dict | nn.Module): mmseg segmentor config (``_scope_``
            defaults to ``'mmseg'``; no ``data_preprocessor``).
        data_preprocessor (dict | nn.Module, optional): defaults to mmseg's
            ``SegDataPreProcessor`` with ``mean=0``, ``std=255``,
            ``bgr_to_rgb=True``, ``size_divisor=32``, ``seg_pad_val=255``
            (also at test time).
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
