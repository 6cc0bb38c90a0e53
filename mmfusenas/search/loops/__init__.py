from .bilevel_loops import (BilevelEpochBasedTrainLoop,
                            BilevelIterBasedTrainLoop)
from .evolution_search_loop import EvolutionSearcher, EvolutionSearchLoop
from .one_shot_loops import OneShotIterBasedTrainLoop

__all__ = [
    'BilevelEpochBasedTrainLoop', 'BilevelIterBasedTrainLoop',
    'EvolutionSearcher', 'EvolutionSearchLoop', 'OneShotIterBasedTrainLoop'
]
