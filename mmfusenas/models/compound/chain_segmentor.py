"""A chain of pre-modules + MMSegmentation segmentor, trained together."""
from mmfusenas.registry import MODELS
from .base_chain_task_model import BaseChainTaskModel
from .task_mixins import SegTaskMixin


@MODELS.register_module()
class ChainSegmentor(SegTaskMixin, BaseChainTaskModel):
    """Night-time segmentation through a chain of pre-modules (see
    :class:`ChainDetector` for an example of the chain).

    Label padding and ``padding_size``: see
    :class:`~mmfusenas.models.compound.task_mixins.SegTaskMixin`.

    Args:
        **options: ``chain_net``, ``task_input``, ``color_from`` and the rest
            of :class:`BaseChainTaskModel`'s options.
        segmentor (dict | nn.Module): mmseg segmentor config (``_scope_``
            defaults to ``'mmseg'``; no ``data_preprocessor``).
    """
