from .bilevel_optim_wrapper_constructor import BilevelOptimWrapperConstructor
from .summary_optim_wrapper_constructor import SummaryOptimWrapperConstructor

__all__ = [
    'BilevelOptimWrapperConstructor', 'SummaryOptimWrapperConstructor'
]
