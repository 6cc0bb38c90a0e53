from .fused_image_save_hook import FusedImageSaveHook
from .ruas_training_hooks import (RUAS_TRAINING_STRATEGIES,
                                  RUASTrainingStrategyHook)

__all__ = [
    'FusedImageSaveHook', 'RUASTrainingStrategyHook',
    'RUAS_TRAINING_STRATEGIES'
]
