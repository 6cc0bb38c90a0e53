"""EvolutionSearchLoop: names a train_cfg key that is neither its own nor
an EvolutionSearcher option; resumes only a state made by the same
weights, model and val configs, metric, predictor and options."""
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


class _Runner:
    """A stand-in runner: a supernet of two choice points, its config."""

    def __init__(self, work_dir):
        import torch.nn as nn

        from mmfusenas.models.mutables import OneShotChoice
        self.model = nn.Sequential(*(
            OneShotChoice(f'p{i}', dict(a=nn.Linear(2, 2), b=nn.Identity(),
                                        c=nn.Identity())) for i in range(2)))
        self.work_dir, self._randomness_cfg, self.seed = work_dir, {}, 0
        self.cfg = dict(model=dict(type='Stand-in', root=work_dir))

    def build_dataloader(self, cfg, **kwargs):
        return cfg

    def build_evaluator(self, cfg):
        return cfg

    def call_hook(self, name, **kwargs):
        pass


def test_evolution_loop_resumes_only_the_same_weights_and_options(tmp_path):
    import os.path as osp

    import torch
    from mmengine.logging import MMLogger

    from mmfusenas.engine.runner import EvolutionSearchLoop
    from helpers import LogCapture
    cap = LogCapture()
    MMLogger.get_instance('evolution_loop_made_by').addHandler(cap)
    work = str(tmp_path / 'work')
    runner = _Runner(work)
    calls = []

    def search(metric='gisr/RMSE', **kwargs):
        cap.messages.clear()
        loader = dict(batch_size=1, num_workers=kwargs.pop('workers', 0),
                      dataset=dict(data_root=osp.join(runner.work_dir, 'v')))
        loop = EvolutionSearchLoop(
            runner, loader, dict(type='GISRMetric'), dict(type='DCNASNet'),
            metric=metric, population_size=3, top_k=2, num_mutation=1,
            num_crossover=1, max_iters=2, seed=0, **kwargs)
        weight = runner.model[0].candidates['a'].weight.sum().item()
        loop.score = lambda p: calls.append(1) or weight * len(
            [v for v in p.values() if v == 'a'])
        return loop.run()

    top = search()
    n = len(calls)
    assert n == 6
    # unchanged (num_workers is no part of it; the work dir moved): resumed
    runner.work_dir = str(tmp_path / 'moved')
    runner.cfg['model']['root'] = runner.work_dir
    __import__('shutil').copytree(work, runner.work_dir)
    assert search(workers=2) == top and len(calls) == n
    assert any('resumed at generation 2' in m for m in cap.messages)
    # the supernet retrained: started afresh, the reason named
    with torch.no_grad():
        runner.model[0].candidates['a'].weight.add_(1.0)
    state = osp.join(runner.work_dir, 'search', 'evolution_state.json')
    search()
    assert len(calls) == 2 * n
    assert f'evolution: {state}: saved weights_sha256 differ(s) from this ' \
        'search; starting afresh' in cap.messages
    # another metric or val data: started afresh, named
    search(metric='gisr/MAE')
    assert len(calls) == 3 * n
    assert any('saved metric differ(s)' in m for m in cap.messages)
    runner.cfg['model']['depth'] = 1
    search(metric='gisr/MAE')
    assert len(calls) == 4 * n
    assert any('saved model_sha256 differ(s)' in m for m in cap.messages)
    # with a predictor, then another one (generation 0 is its pick)
    from mmfusenas.models.mutables import one_shot_space
    from mmfusenas.search.predictors import BGRUPredictor, save_predictor
    pred = osp.join(str(tmp_path), 'predictor.pth')
    for seed, differ in ((0, 'init_pool, predictor_sha256'),
                         (1, 'predictor_sha256')):
        torch.manual_seed(seed)
        save_predictor(BGRUPredictor(one_shot_space(runner.model)), pred)
        search(metric='gisr/MAE', predictor=pred, init_pool=4)
        assert any(f'saved {differ} differ(s)' in m for m in cap.messages)
    assert len(calls) == 6 * n
    search(metric='gisr/MAE', predictor=pred, init_pool=4)
    assert len(calls) == 6 * n  # the same predictor: resumed

    class Costs:
        """A stand-in cost table (its cost model in its context)."""

        def __init__(self, model):
            self.context = dict(model=model)

        def cost(self, path):
            return dict(params=1.0)

    # another cost table (costs kept in the state): started afresh, named
    for model, afresh in (('m1', True), ('m1', False), ('m2', True)):
        before = len(calls)
        search(metric='gisr/MAE', predictor=pred, init_pool=4,
               cost_table=Costs(model))
        assert (len(calls) > before) == afresh
        assert any('saved cost_table_sha256 differ(s)' in m
                   for m in cap.messages) == afresh
