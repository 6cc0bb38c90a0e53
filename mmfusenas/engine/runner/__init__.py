from .bilevel_loops import (BilevelEpochBasedTrainLoop,
                            BilevelIterBasedTrainLoop)
from .build import (CachedTextConfig, build_runner, remove_failed_start,
                    with_cached_text)
from .evolution_search_loop import EvolutionSearcher, EvolutionSearchLoop
from .one_shot_loops import OneShotIterBasedTrainLoop
from .pmi_loop import (PMILoop, inner_update, meta_gradient, meta_parameters,
                       task_loss)

__all__ = [
    'PMILoop', 'meta_gradient', 'meta_parameters', 'inner_update',
    'task_loss', 'build_runner', 'remove_failed_start',
    'BilevelEpochBasedTrainLoop', 'BilevelIterBasedTrainLoop',
    'EvolutionSearcher', 'EvolutionSearchLoop', 'OneShotIterBasedTrainLoop',
    'CachedTextConfig', 'with_cached_text'
]
