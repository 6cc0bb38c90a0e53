from .fused_image_save_hook import FusedImageSaveHook
from .prediction_visualization_hook import PredictionVisualizationHook
from .ruas_training_hooks import (RUAS_TRAINING_STRATEGIES,
                                  RUASTrainingStrategyHook)
from .task_guidance_hooks import (FreezeFusionHook, FusionLossWeightHook,
                                  FusionWarmupHook)

__all__ = [
    'FusedImageSaveHook', 'PredictionVisualizationHook', 'FusionWarmupHook',
    'FreezeFusionHook',
    'FusionLossWeightHook', 'RUASTrainingStrategyHook',
    'RUAS_TRAINING_STRATEGIES'
]
