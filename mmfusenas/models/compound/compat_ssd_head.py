"""mmdet's SSDHead with a working ``predict`` (mmdet 3.3.0)."""
from mmdet.models.dense_heads import SSDHead
from mmdet.models.losses import CrossEntropyLoss
from mmengine.registry import DefaultScope

from mmfusenas.registry import MODELS


@MODELS.register_module()
class CompatSSDHead(SSDHead):
    """:class:`mmdet.models.dense_heads.SSDHead` whose ``predict`` runs.

    mmdet 3.3.0's ``SSDHead`` skips ``AnchorHead.__init__`` and so never
    sets ``loss_cls``, which ``BaseDenseHead._predict_by_feat_single``
    reads (``self.loss_cls.custom_cls_channels``): training works, any
    ``predict`` / validation raises ``AttributeError``. This subclass sets
    ``loss_cls`` to the loss SSD actually uses (softmax cross-entropy; the
    head still computes its hard-negative-mined loss itself, the module is
    only read for its flags). It has no parameters, so state dicts and
    checkpoints are exactly ``SSDHead``'s, and the arguments are
    ``SSDHead``'s. In an mmdet config: ``bbox_head=dict(
    type='mmfusenas.CompatSSDHead', ...)``.
    """

    def __init__(self, *args, **kwargs) -> None:
        # SSDHead builds its anchor generator / coder from mmdet's
        # registries: do it in the mmdet scope whatever scope is current
        with DefaultScope.overwrite_default_scope('mmdet'):
            super().__init__(*args, **kwargs)
        self.loss_cls = CrossEntropyLoss(use_sigmoid=False)
