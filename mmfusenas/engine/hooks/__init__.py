from .chain_staging_hook import ChainStagingHook
from .fused_image_save_hook import FusedImageSaveHook
from .ruas_training_hooks import (RUAS_TRAINING_STRATEGIES,
                                  RUASTrainingStrategyHook)
from .task_guidance_hooks import (FreezeFusionHook, FusionLossWeightHook,
                                  FusionWarmupHook)

__all__ = [
    'FusedImageSaveHook', 'FusionWarmupHook', 'FreezeFusionHook',
    'FusionLossWeightHook', 'RUASTrainingStrategyHook',
    'RUAS_TRAINING_STRATEGIES', 'ChainStagingHook'
]
