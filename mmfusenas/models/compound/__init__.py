"""Fusion network + downstream task model, trained together (TIM)."""
from .base_fusion_task_model import (FUSED_COLORS, IMAGENET_MEAN,
                                     IMAGENET_STD, BaseFusionTaskModel,
                                     get_fusion_task_model)
from .compat_ssd_head import CompatSSDHead
from .fusion_checkpoint import load_fusion_checkpoint
from .fusion_detector import FusionDetector
from .fusion_segmentor import FusionSegmentor

__all__ = [
    'BaseFusionTaskModel', 'FusionDetector', 'FusionSegmentor',
    'CompatSSDHead', 'get_fusion_task_model', 'load_fusion_checkpoint',
    'FUSED_COLORS', 'IMAGENET_MEAN', 'IMAGENET_STD'
]
