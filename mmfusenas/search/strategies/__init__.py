from .base import BaseBilevelStrategy, BilevelProblem, HyperGradient
from .cooperative import (COOPERATIVE_MODES, COUPLING_REACHES,
                          CooperativePart, CooperativeProblem,
                          CooperativeStrategy)
from .darts import DartsFirstOrderStrategy, DartsSecondOrderStrategy
from .evolution import EvolutionSearcher
from .functional import (fill_zeros, finite_difference_hvp, flat_dot,
                         flat_norm, grads_wrt, replaced_values, scalar_loss)
from .ias import IASStrategy
from .meta_learning import (inner_update, meta_gradient, meta_parameters,
                            task_loss)
from .path_samplers import (BandSampler, BestOfMPathSampler,
                            PredictorPathSampler, UniformPathSampler,
                            path_loss)
from .implicit import ImplicitStrategy

__all__ = [
    'BaseBilevelStrategy', 'BilevelProblem', 'HyperGradient',
    'DartsFirstOrderStrategy', 'DartsSecondOrderStrategy',
    'IASStrategy', 'ImplicitStrategy', 'CooperativeProblem',
    'CooperativePart', 'CooperativeStrategy', 'COUPLING_REACHES',
    'COOPERATIVE_MODES', 'fill_zeros', 'finite_difference_hvp', 'flat_dot',
    'flat_norm', 'grads_wrt', 'replaced_values', 'scalar_loss',
    'BandSampler', 'BestOfMPathSampler', 'PredictorPathSampler',
    'UniformPathSampler', 'path_loss', 'EvolutionSearcher', 'meta_gradient',
    'meta_parameters', 'inner_update', 'task_loss'
]
