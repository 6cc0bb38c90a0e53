"""Architecture search: the search algorithms (bilevel, cooperative,
proxy, loss-weight), bilevel strategies and path samplers, architecture
regularisers and cost estimators, ranking predictors.

The loops, hooks and the bilevel optimizer-wrapper constructor that drive a
search are engine components and live in :mod:`mmfusenas.engine` (as in
MMRazor), one layer above this room.
"""
from .algorithms import (BaseSearchAlgorithm, BilevelSearchAlgorithm,
                         CooperativeSearchAlgorithm, LossWeightSearchAlgorithm,
                         ProxyBilevelAlgorithm)
from .estimators import PathCostTable, ResourceEstimator
from .predictors import (BGRUPredictor, kendall_tau, ranknet_loss,
                         spearman_rho, train_predictor)
from .regularizers import (FlopsRegularizer, LatencyRegularizer,
                           SkipCountRegularizer, nested_expected_cost,
                           operation_sensitive_reg)
from .strategies import (BaseBilevelStrategy, BestOfMPathSampler,
                         BilevelProblem, CooperativeProblem,
                         CooperativeStrategy, DartsFirstOrderStrategy,
                         DartsSecondOrderStrategy, HyperGradient,
                         IASStrategy, ImplicitStrategy, PredictorPathSampler,
                         SearchableModel, UniformPathSampler, path_loss)

__all__ = [
    'BaseSearchAlgorithm', 'BaseBilevelStrategy', 'BilevelProblem',
    'HyperGradient',
    'SearchableModel', 'DartsFirstOrderStrategy', 'DartsSecondOrderStrategy',
    'IASStrategy', 'ImplicitStrategy', 'CooperativeProblem',
    'CooperativeStrategy', 'CooperativeSearchAlgorithm',
    'operation_sensitive_reg', 'nested_expected_cost',
    'BilevelSearchAlgorithm',
    'LatencyRegularizer', 'FlopsRegularizer', 'ResourceEstimator',
    'SkipCountRegularizer', 'ProxyBilevelAlgorithm',
    'LossWeightSearchAlgorithm', 'PathCostTable',
    'BGRUPredictor', 'kendall_tau', 'ranknet_loss', 'spearman_rho',
    'train_predictor', 'BestOfMPathSampler', 'PredictorPathSampler',
    'UniformPathSampler', 'path_loss'
]
