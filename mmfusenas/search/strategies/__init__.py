from .base import BaseBilevelStrategy, BilevelProblem, HyperGradient
from .cooperative import (COOPERATIVE_MODES, COUPLING_REACHES,
                          CooperativePart, CooperativeProblem,
                          CooperativeStrategy)
from .darts import DartsFirstOrderStrategy, DartsSecondOrderStrategy
from .functional import (fill_zeros, finite_difference_hvp, flat_dot,
                         flat_norm, grads_wrt, replaced_values, scalar_loss)
from .ias import IASStrategy
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
    'UniformPathSampler', 'path_loss'
]
