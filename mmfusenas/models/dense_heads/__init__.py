from .searchable_ssd_head import SearchableSSDHead, ssd_head_positions

__all__ = ['SearchableSSDHead', 'ssd_head_positions']
