from .bilevel_search import BilevelSearchAlgorithm
from .cooperative_search import CooperativeSearchAlgorithm
from .proxy_bilevel import PROXY_SCHEMES, ProxyBilevelAlgorithm

__all__ = ['BilevelSearchAlgorithm', 'CooperativeSearchAlgorithm',
           'ProxyBilevelAlgorithm', 'PROXY_SCHEMES']
