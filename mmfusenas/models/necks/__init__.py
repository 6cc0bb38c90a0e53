from .searchable_distillation_neck import SearchableDistillationNeck
from .searchable_ssd_neck import SearchableSSDNeck, ssd_neck_positions

__all__ = ['SearchableDistillationNeck']
__all__ += ['SearchableSSDNeck', 'ssd_neck_positions']
