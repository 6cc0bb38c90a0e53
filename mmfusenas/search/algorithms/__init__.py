from .bilevel_search import BilevelSearchAlgorithm

__all__ = ['BilevelSearchAlgorithm']
