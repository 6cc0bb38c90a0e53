"""Pre-modules (a chain of fusion / scene / registration networks) + a real
task model, trained together (TIM, RUAS, their compositions)."""
from mmfusenas.utils.module_checkpoint import load_module_checkpoint
from .base_pre_task_model import (IMAGENET_MEAN, IMAGENET_STD, SAMPLE_CHROMA,
                                  BasePreTaskModel, get_pre_task_model)
from .compat_ssd_head import CompatSSDHead
from .pre_module_chain import PreModuleChain
from .task_models import (FUSED_COLORS, BaseFusionTaskModel,
                          BaseSceneTaskModel, ChainDetector, ChainSegmentor,
                          FusionDetector, FusionSegmentor, SceneDetector,
                          SceneSegmentor)

__all__ = [
    'BasePreTaskModel', 'BaseFusionTaskModel', 'BaseSceneTaskModel',
    'ChainDetector', 'ChainSegmentor', 'PreModuleChain', 'FusionDetector',
    'FusionSegmentor', 'SceneDetector', 'SceneSegmentor', 'CompatSSDHead',
    'get_pre_task_model', 'load_module_checkpoint',
    'FUSED_COLORS', 'SAMPLE_CHROMA', 'IMAGENET_MEAN', 'IMAGENET_STD'
]
