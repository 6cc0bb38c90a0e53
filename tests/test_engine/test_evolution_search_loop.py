"""EvolutionSearchLoop: names a train_cfg key that is neither its own nor
an EvolutionSearcher option."""
import pytest

from mmfusenas.search.strategies import EvolutionSearcher


def test_evolution_loop_names_an_unknown_train_cfg_key():
    # a misplaced key (here the supernet loop's ``dataloader`` nesting as
    # ``train_dataloader``) is named by the loop with the keys it takes,
    # not passed on to EvolutionSearcher as a bare "unexpected keyword"
    import inspect

    from mmfusenas.engine.runner import EvolutionSearchLoop
    from mmfusenas.engine.runner.evolution_search_loop import SEARCHER_OPTIONS
    searcher_args = set(inspect.signature(EvolutionSearcher).parameters)
    assert set(SEARCHER_OPTIONS) <= searcher_args
    with pytest.raises(TypeError, match=r"\['train_dataloader'\].*"
                       r"population_size"):
        EvolutionSearchLoop(None, None, None, dict(), population_size=4,
                            train_dataloader=dict(batch_size=1))
