from .base import BaseSearchAlgorithm
from .bilevel_search import BilevelSearchAlgorithm
from .cooperative_search import CooperativeSearchAlgorithm
from .loss_weight_search import LossWeightSearchAlgorithm
from .proxy_bilevel import PROXY_SCHEMES, ProxyBilevelAlgorithm

__all__ = [
    'BaseSearchAlgorithm', 'BilevelSearchAlgorithm',
    'CooperativeSearchAlgorithm', 'LossWeightSearchAlgorithm',
    'ProxyBilevelAlgorithm', 'PROXY_SCHEMES'
]
