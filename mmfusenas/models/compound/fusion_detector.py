"""Fusion network + MMDetection detector, trained together."""
from mmfusenas.registry import MODELS
from .base_fusion_task_model import BaseFusionTaskModel
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
        **options: the fusion side's options (``fusion_net``,
            ``fusion_losses``, ``fusion_loss_weight``, ...): see
            :class:`BaseFusionTaskModel`.
        detector, rescale: the task side, see :class:`DetTaskMixin`.
    """
