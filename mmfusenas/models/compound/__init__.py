"""Stages of pre-modules (fusion / scene / registration networks) + a real
task model, trained together (TIM, RUAS, their compositions)."""
from mmfusenas.models.utils.module_checkpoint import load_module_checkpoint
from .base_pre_task_model import (IMAGENET_MEAN, IMAGENET_STD,
                                  BasePreTaskModel, get_pre_task_model)
from .compat_ssd_head import CompatSSDHead
from .stages import (STAGE_KINDS, FusionStage, RegistrationStage,
                     SceneStage, Stage)
from .task_models import (FUSED_COLORS, ChainDetector, ChainSegmentor,
                          FusionDetector, FusionSegmentor, SceneDetector,
                          SceneSegmentor)

__all__ = [
    'BasePreTaskModel', 'ChainDetector', 'ChainSegmentor', 'FusionDetector',
    'FusionSegmentor', 'SceneDetector', 'SceneSegmentor', 'Stage',
    'FusionStage', 'SceneStage', 'RegistrationStage', 'STAGE_KINDS',
    'CompatSSDHead', 'get_pre_task_model', 'load_module_checkpoint',
    'FUSED_COLORS', 'IMAGENET_MEAN', 'IMAGENET_STD'
]
