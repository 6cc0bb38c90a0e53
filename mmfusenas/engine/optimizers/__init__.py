from .bilevel_optim_wrapper_constructor import BilevelOptimWrapperConstructor
from .summary_optim_wrapper_constructor import (SummaryOptimWrapperConstructor,
                                                summarise_options)

__all__ = [
    'BilevelOptimWrapperConstructor', 'SummaryOptimWrapperConstructor',
    'summarise_options'
]
