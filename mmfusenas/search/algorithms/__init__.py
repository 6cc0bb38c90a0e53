from .bilevel_search import BilevelSearchAlgorithm
from .cooperative_search import CooperativeSearchAlgorithm
from .loss_weight_search import LossWeightSearchAlgorithm

__all__ = [
    'BilevelSearchAlgorithm', 'CooperativeSearchAlgorithm',
    'LossWeightSearchAlgorithm'
]
