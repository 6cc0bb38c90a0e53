"""A chain of pre-modules + MMDetection detector, trained together."""
from mmfusenas.registry import MODELS
from .base_chain_task_model import BaseChainTaskModel
from .task_mixins import DetTaskMixin


@MODELS.register_module()
class ChainDetector(DetTaskMixin, BaseChainTaskModel):
    """Night-time detection through a chain: e.g. RUAS enhances the VIS
    image, TIM's N_F fuses it with IR, a real mmdet detector detects.

    Example::

        model = dict(
            type='ChainDetector',
            chain_net=dict(type='PreModuleChain', stages=[
                dict(name='scene', kind='scene', module=dict(type='RUASNet',
                     ...), inputs=['vi'], output='vi_enh',
                     losses=[dict(type='RUASSceneLoss')], loss_weight=0.1),
                dict(name='fusion', kind='fusion', module=dict(
                     type='TIMFusionNet', ...), inputs=['ir', 'vi_enh:y'],
                     output='fused', losses=[...]),
            ]),
            task_input='fused', color_from='vi_enh',
            detector=dict(type='RetinaNet', ...))

    Args:
        **options: ``chain_net``, ``task_input``, ``color_from`` and the rest
            of :class:`BaseChainTaskModel`'s options.
        detector, rescale: the task side, see :class:`DetTaskMixin`.
    """
