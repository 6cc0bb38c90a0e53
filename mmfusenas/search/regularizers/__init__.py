"""Architecture regularisers of the upper loss: differentiable functions of
α and the classes that build their cost tables.
"""
from .cost_regularizers import (BaseCostRegularizer, FlopsRegularizer,
                                LatencyRegularizer, SkipCountRegularizer)
from .functional import nested_expected_cost, operation_sensitive_reg

__all__ = [
    'BaseCostRegularizer', 'FlopsRegularizer', 'LatencyRegularizer',
    'SkipCountRegularizer', 'nested_expected_cost', 'operation_sensitive_reg'
]
