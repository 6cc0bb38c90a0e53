from .searchable_aspp_head import SearchableASPPHead, aspp_positions
from .searchable_distillation_head import SearchableDistillationHead

__all__ = ['SearchableDistillationHead']
__all__ += ['SearchableASPPHead', 'aspp_positions']
