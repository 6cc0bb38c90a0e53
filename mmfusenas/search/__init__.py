"""Architecture search: bilevel strategies and architecture regularisers."""
from .algorithms import (BilevelSearchAlgorithm, CooperativeSearchAlgorithm,
                         LossWeightSearchAlgorithm, ProxyBilevelAlgorithm)
from .estimators import (LatencyRegularizer, ResourceEstimator,
                         SkipCountRegularizer)
from .estimators import PathCostTable
from .hooks import ArchLoggingHook, GenotypeExportHook, LossWeightExportHook
from .loops import (BilevelEpochBasedTrainLoop, BilevelIterBasedTrainLoop,
                    EvolutionSearcher, EvolutionSearchLoop,
                    OneShotIterBasedTrainLoop)
from .predictors import (BGRUPredictor, kendall_tau, ranknet_loss,
                         spearman_rho, train_predictor)
from .optimizers import BilevelOptimWrapperConstructor
from .regularizers import operation_sensitive_reg
from .strategies import (BaseBilevelStrategy, BilevelProblem,
                         CooperativeProblem, CooperativeStrategy,
                         DartsFirstOrderStrategy, DartsSecondOrderStrategy,
                         HyperGradient, IASStrategy, SearchableModel,
                         BestOfMPathSampler, PredictorPathSampler,
                         UniformPathSampler, path_loss)

__all__ = [
    'BaseBilevelStrategy', 'BilevelProblem', 'HyperGradient',
    'SearchableModel', 'DartsFirstOrderStrategy', 'DartsSecondOrderStrategy',
    'IASStrategy', 'CooperativeProblem', 'CooperativeStrategy',
    'CooperativeSearchAlgorithm', 'operation_sensitive_reg',
    'BilevelSearchAlgorithm',
    'BilevelOptimWrapperConstructor', 'BilevelEpochBasedTrainLoop',
    'BilevelIterBasedTrainLoop', 'ArchLoggingHook', 'GenotypeExportHook',
    'LatencyRegularizer', 'ResourceEstimator', 'SkipCountRegularizer',
    'ProxyBilevelAlgorithm', 'LossWeightSearchAlgorithm',
    'LossWeightExportHook', 'EvolutionSearcher', 'EvolutionSearchLoop',
    'OneShotIterBasedTrainLoop', 'PathCostTable', 'BGRUPredictor',
    'kendall_tau', 'ranknet_loss', 'spearman_rho', 'train_predictor',
    'BestOfMPathSampler', 'PredictorPathSampler', 'UniformPathSampler',
    'path_loss'
]
