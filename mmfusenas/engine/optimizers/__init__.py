from .bilevel_optim_wrapper_constructor import BilevelOptimWrapperConstructor

__all__ = ['BilevelOptimWrapperConstructor']
