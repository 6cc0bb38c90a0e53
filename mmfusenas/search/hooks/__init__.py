from .arch_logging_hook import ArchLoggingHook
from .arch_schedule_hook import ArchScheduleHook
from .genotype_export_hook import GenotypeExportHook
from .loss_weight_export_hook import LossWeightExportHook

__all__ = [
    'ArchLoggingHook', 'ArchScheduleHook', 'GenotypeExportHook',
    'LossWeightExportHook'
]
