from .bilevel_search import BilevelSearchAlgorithm
from .cooperative_search import CooperativeSearchAlgorithm

__all__ = ['BilevelSearchAlgorithm', 'CooperativeSearchAlgorithm']
