"""EvolutionSearcher: beats random sampling within the budget, resumes
exactly (only a state made by the same scores and options), fails fast on
an impossible budget, scores canonical paths once."""
import json
import random

import pytest
import torch

from mmfusenas.models.gisr import DCNASNet, dcnas_space
from mmfusenas.models.mutables import random_choices
from mmfusenas.search.estimators import ResourceConstraintError
from mmfusenas.search.strategies import EvolutionSearcher, evolution
from helpers import LogCapture


def _toy_space():
    return {f'g{i}': ('a', 'b', 'c', 'd') for i in range(8)}


def _score(path):
    # lower is better; a float that needs full precision to be ranked
    return sum('abcd'.index(v) for v in path.values()) + 1e-12 * len(
        [v for v in path.values() if v == 'b'])


def test_evolution_beats_random_and_respects_budget():
    space = _toy_space()
    cost = (lambda p: dict(params=float(sum(v == 'a' for v in p.values()))))
    evo = EvolutionSearcher(space, _score, cost, dict(params=5),
                            population_size=10, top_k=3, num_mutation=5,
                            num_crossover=5, max_iters=6, seed=0)
    top = evo.run()
    assert all(cost(p)['params'] <= 5 for _, p in top)
    best = top[0][0]
    rng = random.Random(0)
    rand = [p for p in (random_choices(space, rng) for _ in range(400))
            if cost(p)['params'] <= 5][:60]
    assert best <= min(_score(p) for p in rand)
    assert best == pytest.approx(3.0, abs=2)  # optimum is 3 (five a, 3 b)
    # 'greater' ranks descending
    up = EvolutionSearcher(space, _score, population_size=10, top_k=3,
                           num_mutation=5, num_crossover=5, max_iters=4,
                           rule='greater', seed=0).run()
    assert up[0][0] >= up[-1][0] and up[0][0] > 12
    with pytest.raises(ValueError, match='rule'):
        EvolutionSearcher(space, _score, rule='max')


def test_evolution_resumes_exactly(tmp_path):
    kw = dict(population_size=8, top_k=3, num_mutation=4, num_crossover=4,
              seed=3)
    full = EvolutionSearcher(_toy_space(), _score, max_iters=5, **kw)
    full.run()
    state = str(tmp_path / 'state.json')
    EvolutionSearcher(_toy_space(), _score, max_iters=2, state_file=state,
                      **kw).run()
    resumed = EvolutionSearcher(_toy_space(), _score, max_iters=5,
                                state_file=state, **kw)
    resumed.run()
    assert resumed.scores == full.scores and resumed.topk == full.topk
    assert resumed.history == full.history
    other = EvolutionSearcher(_toy_space(), _score, max_iters=5,
                              state_file=state, rule='greater', **kw)
    with pytest.raises(ValueError, match='rule differs'):
        other.run()


def test_evolution_impossible_budget():
    cost = (lambda p: dict(params=10.0))
    evo = EvolutionSearcher(_toy_space(), _score, cost, dict(params=1),
                            population_size=4, max_iters=1)
    with pytest.raises(ResourceConstraintError, match='no legal path'):
        evo.run()


def test_canonical_paths_are_scored_once():
    from mmfusenas.models.gisr import canonical_choices
    space = dcnas_space(4, 1)
    rng = random.Random(0)
    path = random_choices(space, rng)
    path.update({'fusion.0': 'skip_rgb', 'fusion.1': 'skip',
                 'fusion.2': 'cat', 'rgb_encoder.3.0': 'mb_k7_r6',
                 'rgb_encoder.2.0': 'mb_k3_r2'})
    canon = canonical_choices(path)
    # the two deepest RGB stages are pruned: their blocks become skip
    assert canon['rgb_encoder.3.0'] == 'skip'
    assert canon['rgb_encoder.2.0'] == 'skip'
    assert canon['rgb_encoder.1.0'] == path['rgb_encoder.1.0']
    # both forms build the same network with the same outputs
    torch.manual_seed(0)
    a = DCNASNet(path, num_features=4)
    torch.manual_seed(0)
    b = DCNASNet(canon, num_features=4)
    x = (torch.rand(1, 1, 16, 16), torch.rand(1, 3, 16, 16))
    assert torch.equal(a(*x), b(*x))
    calls = []
    evo = EvolutionSearcher(space, lambda p: calls.append(1) or 0.0,
                            population_size=4, max_iters=1,
                            canonical_fn=canonical_choices,
                            init_population=[path, canon])
    evo.run()
    assert len(calls) == 4 and len(evo.scores) == 4


def test_evolution_resumes_only_a_state_made_alike(tmp_path):
    from mmengine.logging import MMLogger
    cap = LogCapture()
    MMLogger.get_instance('evolution_made_by').addHandler(cap)
    state = str(tmp_path / 'state.json')
    kw = dict(population_size=6, top_k=2, num_mutation=3, num_crossover=3,
              seed=1, state_file=state)
    calls = []

    def search(score, max_iters=2, **made_by):
        cap.messages.clear()
        evo = EvolutionSearcher(
            _toy_space(), lambda p: calls.append(1) or score(p),
            max_iters=max_iters, **dict(kw, **made_by))
        return evo.run()

    old = dict(made_by=dict(weights_sha256='w1', metric='gisr/RMSE'))
    top = search(_score, **old)
    n = len(calls)
    # unchanged: resumed, nothing scored again; a longer search continues
    assert search(_score, **old) == top and len(calls) == n
    assert any('resumed at generation 2' in m for m in cap.messages)
    search(_score, max_iters=3, **old)
    assert len(calls) == n + 6
    # the supernet retrained (other weights): the old top-k is not served
    calls.clear()
    new = search(lambda p: -_score(p), max_iters=3,
                 made_by=dict(old['made_by'], weights_sha256='w2'))
    assert len(calls) == 18 and new[0][0] == -_score(new[0][1])
    assert f'evolution: {state}: saved weights_sha256 differ(s) from this ' \
        'search; starting afresh' in cap.messages
    with open(state) as f:
        assert json.load(f)['made_by']['weights_sha256'] == 'w2'
    # another searcher option or metric: named, started afresh
    calls.clear()
    search(_score, made_by=dict(weights_sha256='w2', metric='gisr/MAE'),
           mutate_prob=0.5)
    assert len(calls) == 12
    assert any('saved metric, mutate_prob differ(s)' in m
               for m in cap.messages)
    # the space, rule and budgets still refuse
    with pytest.raises(ValueError, match='rule differs'):
        search(_score, rule='greater')


def test_loader_key_leaves_out_what_does_not_change_the_batches():
    loader = dict(batch_size=1, dataset=dict(data_root='/w/one/val'))
    key = evolution.loader_sha256(loader, '/w/one')
    assert evolution.loader_sha256(
        dict(loader, num_workers=4, persistent_workers=True), '/w/one') == key
    assert evolution.loader_sha256(
        dict(loader, dataset=dict(data_root='/w/two/val')), '/w/two') == key
    assert evolution.loader_sha256(dict(loader, batch_size=2),
                                   '/w/one') != key
