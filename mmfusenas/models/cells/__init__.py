from .decomposition_cell import DecompositionCell
from .feature_distillation_cell import (FeatureDistillationCell,
                                        cell_edge_specs_from_template,
                                        edge_specs_from_template,
                                        num_distillation_edges)
from .hadamard_unit import HadamardUnit, hadamard_divide, hbl_position_spec
from .multi_scale_fusion_cell import MultiScaleFusionCell
from .ruas_distillation_cell import (RUAS_CELL_EDGES, RUAS_EDGE_NAMES,
                                     RUASDistillationCell)
from .successive_cell import SuccessiveCell

__all__ = [
    'DecompositionCell', 'MultiScaleFusionCell', 'SuccessiveCell',
    'FeatureDistillationCell', 'cell_edge_specs_from_template',
    'edge_specs_from_template', 'num_distillation_edges', 'RUAS_CELL_EDGES',
    'RUAS_EDGE_NAMES', 'RUASDistillationCell', 'HadamardUnit',
    'hadamard_divide', 'hbl_position_spec'
]
