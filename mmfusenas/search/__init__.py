"""Architecture search: bilevel strategies and architecture regularisers,
one-shot supernet / evolution search, loss-weight search."""
from .algorithms import (BaseSearchAlgorithm, BilevelSearchAlgorithm,
                         CooperativeSearchAlgorithm, LossWeightSearchAlgorithm,
                         ProxyBilevelAlgorithm)
from .estimators import (FlopsRegularizer, LatencyRegularizer, PathCostTable,
                         ResourceEstimator, SkipCountRegularizer)
from .hooks import (ArchLoggingHook, ArchScheduleHook, GenotypeExportHook,
                    LossWeightExportHook)
from .loops import (BilevelEpochBasedTrainLoop, BilevelIterBasedTrainLoop,
                    EvolutionSearcher, EvolutionSearchLoop,
                    OneShotIterBasedTrainLoop)
from .optimizers import BilevelOptimWrapperConstructor
from .predictors import (BGRUPredictor, kendall_tau, ranknet_loss,
                         spearman_rho, train_predictor)
from .regularizers import nested_expected_cost, operation_sensitive_reg
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
    'BilevelSearchAlgorithm', 'BilevelOptimWrapperConstructor',
    'BilevelEpochBasedTrainLoop', 'BilevelIterBasedTrainLoop',
    'ArchLoggingHook', 'ArchScheduleHook', 'GenotypeExportHook',
    'LatencyRegularizer', 'FlopsRegularizer', 'ResourceEstimator',
    'SkipCountRegularizer', 'ProxyBilevelAlgorithm',
    'LossWeightSearchAlgorithm', 'LossWeightExportHook', 'EvolutionSearcher',
    'EvolutionSearchLoop', 'OneShotIterBasedTrainLoop', 'PathCostTable',
    'BGRUPredictor', 'kendall_tau', 'ranknet_loss', 'spearman_rho',
    'train_predictor', 'BestOfMPathSampler', 'PredictorPathSampler',
    'UniformPathSampler', 'path_loss'
]
