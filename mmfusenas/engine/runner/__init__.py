from .bilevel_loops import (BilevelEpochBasedTrainLoop,
                            BilevelIterBasedTrainLoop)
from .evolution_search_loop import EvolutionSearcher, EvolutionSearchLoop
from .init_summary import summarised_init_dump
from .one_shot_loops import OneShotIterBasedTrainLoop
from .pmi_loop import (PMILoop, inner_update, meta_gradient, meta_parameters,
                       task_loss)
from .reliable_runner import (CachedTextConfig, ReliableRunner, build_runner,
                              with_cached_text)

__all__ = [
    'PMILoop', 'meta_gradient', 'meta_parameters', 'inner_update',
    'task_loss', 'ReliableRunner', 'build_runner', 'summarised_init_dump',
    'BilevelEpochBasedTrainLoop', 'BilevelIterBasedTrainLoop',
    'EvolutionSearcher', 'EvolutionSearchLoop', 'OneShotIterBasedTrainLoop',
    'CachedTextConfig', 'with_cached_text'
]
