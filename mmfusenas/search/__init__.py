"""Architecture search: algorithms, bilevel strategies and path samplers,
the evolutionary search, PMI's meta-gradient, regularisers, cost estimators
and ranking predictors (the loops and hooks that drive a search are in
:mod:`mmfusenas.engine`).
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
                         DartsSecondOrderStrategy, EvolutionSearcher,
                         HyperGradient, IASStrategy, ImplicitStrategy,
                         PredictorPathSampler, UniformPathSampler,
                         meta_gradient, path_loss)

__all__ = [
    'BaseSearchAlgorithm', 'BaseBilevelStrategy', 'BilevelProblem',
    'HyperGradient',
    'DartsFirstOrderStrategy', 'DartsSecondOrderStrategy',
    'IASStrategy', 'ImplicitStrategy', 'CooperativeProblem',
    'CooperativeStrategy', 'CooperativeSearchAlgorithm',
    'operation_sensitive_reg', 'nested_expected_cost',
    'BilevelSearchAlgorithm',
    'LatencyRegularizer', 'FlopsRegularizer', 'ResourceEstimator',
    'SkipCountRegularizer', 'ProxyBilevelAlgorithm',
    'LossWeightSearchAlgorithm', 'PathCostTable',
    'BGRUPredictor', 'kendall_tau', 'ranknet_loss', 'spearman_rho',
    'train_predictor', 'BestOfMPathSampler', 'PredictorPathSampler',
    'UniformPathSampler', 'path_loss', 'EvolutionSearcher', 'meta_gradient'
]
