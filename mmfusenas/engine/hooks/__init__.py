from .arch_logging_hook import ArchLoggingHook
from .arch_schedule_hook import ArchScheduleHook
from .arch_separation_hook import ArchSeparationHook, separation
from .checked_load_hook import CheckedLoadHook
from .finite_step_guard_hook import FiniteStepGuardHook
from .fused_image_save_hook import FusedImageSaveHook
from .genotype_export_hook import GenotypeExportHook, LossWeightExportHook
from .prediction_visualization_hook import PredictionVisualizationHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .staging_hook import (ChainStagingHook, FreezeFusionHook,
                           FusionWarmupHook, RUASTrainingStrategyHook,
                           StagingHook)

__all__ = [
    'FusedImageSaveHook', 'PredictionVisualizationHook', 'StagingHook',
    'FusionWarmupHook', 'FreezeFusionHook', 'RUASTrainingStrategyHook',
    'ChainStagingHook', 'FiniteStepGuardHook', 'SafeCheckpointHook',
    'CheckedLoadHook', 'ArchLoggingHook', 'ArchScheduleHook',
    'GenotypeExportHook', 'LossWeightExportHook', 'ArchSeparationHook',
    'separation'
]
