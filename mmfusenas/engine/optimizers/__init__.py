from .summary_optim_wrapper_constructor import (SummaryOptimWrapperConstructor,
                                                summarise_options)

__all__ = ['SummaryOptimWrapperConstructor', 'summarise_options']
