from .arch_logging_hook import ArchLoggingHook
from .arch_schedule_hook import ArchScheduleHook
from .genotype_export_hook import GenotypeExportHook

__all__ = ['ArchLoggingHook', 'ArchScheduleHook', 'GenotypeExportHook']
