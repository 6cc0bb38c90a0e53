from .decomposition_cell import DecompositionCell
from .edges import EdgeSpec, build_chain, build_edge
from .multi_scale_fusion_cell import MultiScaleFusionCell
from .successive_cell import SuccessiveCell

__all__ = [
    'DecompositionCell', 'MultiScaleFusionCell', 'SuccessiveCell', 'EdgeSpec',
    'build_chain', 'build_edge'
]
