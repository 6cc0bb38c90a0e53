from .searchable_distillation_head import SearchableDistillationHead

__all__ = ['SearchableDistillationHead']
