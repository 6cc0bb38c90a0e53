"""Architecture regularisers added to the upper (search) loss: the
differentiable functions of α (``functional``: TIM's operation-sensitive
expected cost, its nested form) and the classes that build their
per-choice-point cost tables from the estimators (latency, FLOPs, skip
connections) with optional hard budgets."""
from .cost_regularizers import (BaseCostRegularizer, FlopsRegularizer,
                                LatencyRegularizer, SkipCountRegularizer)
from .functional import nested_expected_cost, operation_sensitive_reg

__all__ = [
    'BaseCostRegularizer', 'FlopsRegularizer', 'LatencyRegularizer',
    'SkipCountRegularizer', 'nested_expected_cost', 'operation_sensitive_reg'
]
