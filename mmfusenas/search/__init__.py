"""Architecture search: bilevel strategies and architecture regularisers."""
from .algorithms import BilevelSearchAlgorithm, CooperativeSearchAlgorithm
from .estimators import (FlopsRegularizer, LatencyRegularizer,
                         ResourceEstimator, SkipCountRegularizer)
from .hooks import ArchLoggingHook, ArchScheduleHook, GenotypeExportHook
from .loops import BilevelEpochBasedTrainLoop, BilevelIterBasedTrainLoop
from .optimizers import BilevelOptimWrapperConstructor
from .regularizers import nested_expected_cost, operation_sensitive_reg
from .strategies import (BaseBilevelStrategy, BilevelProblem,
                         CooperativeProblem, CooperativeStrategy,
                         DartsFirstOrderStrategy, DartsSecondOrderStrategy,
                         HyperGradient, IASStrategy, ImplicitStrategy,
                         SearchableModel)

__all__ = [
    'BaseBilevelStrategy', 'BilevelProblem', 'HyperGradient',
    'SearchableModel', 'DartsFirstOrderStrategy', 'DartsSecondOrderStrategy',
    'IASStrategy', 'ImplicitStrategy', 'CooperativeProblem',
    'CooperativeStrategy',
    'CooperativeSearchAlgorithm', 'operation_sensitive_reg',
    'BilevelSearchAlgorithm',
    'BilevelOptimWrapperConstructor', 'BilevelEpochBasedTrainLoop',
    'BilevelIterBasedTrainLoop', 'ArchLoggingHook', 'ArchScheduleHook',
    'GenotypeExportHook',
    'LatencyRegularizer', 'ResourceEstimator', 'SkipCountRegularizer',
    'FlopsRegularizer', 'nested_expected_cost'
]
