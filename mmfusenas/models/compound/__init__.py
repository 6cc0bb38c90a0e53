"""Pre-module (fusion / scene network, or a chain of them) + real task model, trained together
(TIM, RUAS)."""
from mmfusenas.utils.module_checkpoint import (load_fusion_checkpoint,
                                              load_module_checkpoint)
from .base_fusion_task_model import (FUSED_COLORS, FUSION_PREFIX,
                                     BaseFusionTaskModel)
from .base_chain_task_model import BaseChainTaskModel
from .base_pre_task_model import (IMAGENET_MEAN, IMAGENET_STD,
                                  BasePreTaskModel, get_pre_task_model)
from .base_scene_task_model import SCENE_PREFIX, BaseSceneTaskModel
from .chain_detector import ChainDetector
from .chain_segmentor import ChainSegmentor
from .compat_ssd_head import CompatSSDHead
from .fusion_detector import FusionDetector
from .fusion_segmentor import FusionSegmentor
from .pre_module_chain import PreModuleChain
from .scene_detector import SceneDetector
from .scene_segmentor import SceneSegmentor
from .task_mixins import DetTaskMixin, SegTaskMixin

__all__ = [
    'BasePreTaskModel', 'BaseFusionTaskModel', 'BaseSceneTaskModel',
    'BaseChainTaskModel', 'ChainDetector', 'ChainSegmentor', 'PreModuleChain',
    'FusionDetector', 'FusionSegmentor', 'SceneDetector', 'SceneSegmentor',
    'DetTaskMixin', 'SegTaskMixin', 'CompatSSDHead', 'get_pre_task_model',
    'load_fusion_checkpoint', 'load_module_checkpoint', 'FUSED_COLORS',
    'FUSION_PREFIX', 'SCENE_PREFIX', 'IMAGENET_MEAN', 'IMAGENET_STD'
]
