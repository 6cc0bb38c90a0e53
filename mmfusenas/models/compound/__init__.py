"""Pre-module (fusion / scene network) + real task model, trained together
(TIM, RUAS)."""
from .base_fusion_task_model import (FUSED_COLORS, FUSION_PREFIX,
                                     BaseFusionTaskModel)
from .base_pre_task_model import (IMAGENET_MEAN, IMAGENET_STD,
                                  BasePreTaskModel, get_pre_task_model)
from .base_scene_task_model import SCENE_PREFIX, BaseSceneTaskModel
from .compat_ssd_head import CompatSSDHead
from .fusion_detector import FusionDetector
from .fusion_segmentor import FusionSegmentor
from .module_checkpoint import load_fusion_checkpoint, load_module_checkpoint
from .scene_detector import SceneDetector
from .scene_segmentor import SceneSegmentor
from .task_mixins import DetTaskMixin, SegTaskMixin

__all__ = [
    'BasePreTaskModel', 'BaseFusionTaskModel', 'BaseSceneTaskModel',
    'FusionDetector', 'FusionSegmentor', 'SceneDetector', 'SceneSegmentor',
    'DetTaskMixin', 'SegTaskMixin', 'CompatSSDHead', 'get_pre_task_model',
    'load_fusion_checkpoint', 'load_module_checkpoint', 'FUSED_COLORS',
    'FUSION_PREFIX', 'SCENE_PREFIX', 'IMAGENET_MEAN', 'IMAGENET_STD'
]
