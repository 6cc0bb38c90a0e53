from .arch_logging_hook import ArchLoggingHook
from .genotype_export_hook import GenotypeExportHook

__all__ = ['ArchLoggingHook', 'GenotypeExportHook']
