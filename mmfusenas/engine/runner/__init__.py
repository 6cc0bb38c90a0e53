from .bilevel_loops import (BilevelEpochBasedTrainLoop,
                            BilevelIterBasedTrainLoop)
from .build import (CachedTextConfig, build_runner, remove_failed_start,
                    with_cached_text)
from .evolution_search_loop import EvolutionSearchLoop
from .one_shot_loops import OneShotIterBasedTrainLoop
from .pmi_loop import PMILoop

__all__ = [
    'PMILoop', 'build_runner', 'remove_failed_start',
    'BilevelEpochBasedTrainLoop', 'BilevelIterBasedTrainLoop',
    'EvolutionSearchLoop', 'OneShotIterBasedTrainLoop',
    'CachedTextConfig', 'with_cached_text'
]
