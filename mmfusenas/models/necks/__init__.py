from .searchable_distillation_neck import SearchableDistillationNeck

__all__ = ['SearchableDistillationNeck']
