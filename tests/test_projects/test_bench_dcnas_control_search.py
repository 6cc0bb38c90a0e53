"""Helpers of projects/reproductions/bench_dcnas_control.py --mode search: the score
cache, P(win) against a reference pool, batch slicing and the evolution's proposal
bookkeeping (hand-computed values, no supernet)."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

from mmfusenas.search.strategies import EvolutionSearcher
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    return load_tool('projects/reproductions/bench_dcnas_control.py')


def test_p_win_and_percentile_hand_values(bench):
    pool = [1.0, 2.0, 3.0, 4.0]
    # 2.5 beats 3 and 4 (half the pool): best of 1 / 2 / 3 random draws
    assert bench.p_win(2.5, pool, 1) == pytest.approx(0.5)
    assert bench.p_win(2.5, pool, 2) == pytest.approx(0.25)
    assert bench.p_win(2.5, pool, 3) == pytest.approx(0.125)
    # a tie counts half: 2.0 beats 3, 4 and half of 2 -> 2.5 / 4
    assert bench.p_win(2.0, pool, 2) == pytest.approx(0.625**2)
    assert bench.p_win(0.5, pool, 40) == 1.0
    assert bench.p_win(5.0, pool, 1) == 0.0
    assert bench.percentile_better(2.0, pool) == pytest.approx(62.5)
    assert np.isnan(bench.p_win(1.0, [], 3))
    # Monte Carlo check of the formula: best-of-3 draws from the pool
    rng = np.random.default_rng(0)
    draws = rng.choice([1.0, 2.0, 3.0, 4.0], size=(200000, 3)).min(1)
    assert np.mean(2.5 < draws) == pytest.approx(0.125, abs=0.003)


def test_score_cache_hits_persists_and_checks_ident(bench, tmp_path):
    calls = []

    def score(path):
        calls.append(path['a'])
        return float(len(path['a']))

    f = str(tmp_path / 'cache.json')
    ident = dict(checkpoint='x.pth', images=32)
    c = bench.ScoreCache(score, lambda p: p['a'], f, ident, every=2)
    assert c(dict(a='xx')) == 2.0 and c(dict(a='xx')) == 2.0
    assert c(dict(a='yyy')) == 3.0
    assert calls == ['xx', 'yyy'] and (c.new, c.hits) == (2, 1)
    assert json.load(open(f))['scores'] == {'xx': 2.0, 'yyy': 3.0}
    again = bench.ScoreCache(score, lambda p: p['a'], f, ident)
    assert again(dict(a='yyy')) == 3.0 and calls == ['xx', 'yyy']
    with pytest.raises(ValueError, match='cache.json holds scores of'):
        bench.ScoreCache(score, lambda p: p['a'], f, dict(ident, images=8))
    bad = bench.ScoreCache(lambda p: float('nan'), lambda p: p['a'])
    with pytest.raises(FloatingPointError, match='non-finite score'):
        bad(dict(a='z'))


def test_cache_file_keys_on_contents_not_paths_or_times(bench, tmp_path):
    """The score cache of a (checkpoint, --config, score images, images)
    is found again from a copy of them elsewhere (other paths and times)
    and not after any of their contents changed."""
    import os
    import shutil
    first = tmp_path / 'a'
    (first / 'root' / 'sub').mkdir(parents=True)
    (first / 'a.pth').write_bytes(b'123')
    (first / 'root' / 'sub' / 'x.png').write_bytes(b'img')
    (first / 'configs').mkdir()
    (first / 'configs' / 's.py').write_text(
        "lr = 0.1\nroot = '{{ fileDirname }}/data'\n")

    def cache(folder, images=32):
        return bench.cache_file(str(tmp_path), str(folder / 'a.pth'),
                                str(folder / 'root'), images,
                                str(folder / 'configs' / 's.py'))

    f1, id1 = cache(first)
    assert set(id1) == {'checkpoint_sha256', 'config_sha256',
                        'score_root_sha256', 'images'}
    assert str(tmp_path) not in json.dumps(id1)
    assert cache(first, 16)[0] != f1
    second = tmp_path / 'b'
    shutil.copytree(first, second)
    os.utime(second / 'a.pth', (1, 1))
    assert cache(second) == (f1, id1)  # a copy: the same cache
    changes = [
        lambda: (second / 'a.pth').write_bytes(b'124'),
        lambda: (second / 'root' / 'sub' / 'x.png').write_bytes(b'imh'),
        lambda: (second / 'root' / 'y.png').write_bytes(b''),
        lambda: (second / 'configs' / 's.py').write_text(
            "lr = 0.2\nroot = '{{ fileDirname }}/data'\n")]
    for change in changes:
        shutil.rmtree(second)
        shutil.copytree(first, second)
        change()
        assert cache(second)[0] != f1


def test_slice_batch(bench):
    batch = dict(inputs=dict(lr_up=torch.arange(6.).view(6, 1)),
                 data_samples=dict(gt=torch.arange(6),
                                   sample_id=list('abcdef'), scale=4))
    out = bench.slice_batch(batch, 2, 4)
    assert out['inputs']['lr_up'].flatten().tolist() == [2., 3.]
    assert out['data_samples']['sample_id'] == ['c', 'd']
    assert out['data_samples']['scale'] == 4


def _toy_search(seed, instrument=None, bench=None):
    space = {f'g{i}': ('a', 'b', 'c', 'd') for i in range(6)}
    weight = {'a': 0, 'b': 1, 'c': 2, 'd': 3}

    def score(p):  # separable: best path is all 'a'
        return float(sum(weight[v] * (i + 1) for i, v in
                         enumerate(p.values())))

    def cost(p):
        return dict(params=float(sum(weight[v] for v in p.values())))

    evo = EvolutionSearcher(space, score, cost, dict(params=12),
                            population_size=6, top_k=2, num_mutation=2,
                            num_crossover=2, mutate_prob=0.3, max_iters=4,
                            seed=seed)
    stats = bench.instrument(evo) if instrument else None
    return evo, evo.run(), stats


def test_instrument_counts_without_changing_the_search(bench):
    for seed in range(3):
        plain, top, _ = _toy_search(seed)
        evo, top2, st = _toy_search(seed, True, bench)
        assert top == top2 and plain.scores == evo.scores
        origins = list(st['origin'].values())
        # generations 1..3 each add <= 2 mutants and <= 2 crossovers
        assert 0 < origins.count('mutation') <= 6
        assert 0 < origins.count('crossover') <= 6
        assert set(st['origin']) <= set(evo.scores)
        for kind in ('mutation', 'crossover', 'random'):
            rejected = (st['duplicate'].get(kind, 0) +
                        st['over_budget'].get(kind, 0))
            accepted = (origins.count(kind) if kind != 'random' else
                        len(evo.scores) - len(origins))
            # every proposal that reached legal() was accepted or rejected
            # (a proposal equal to one already in the population never
            # reaches it)
            assert st['proposed'].get(kind, 0) == accepted + rejected
        # over-budget proposals really are over budget: the toy budget
        # (sum of weights <= 12 of 18) rejects some random draws
        assert st['over_budget'].get('random', 0) > 0


def test_random_state_untouched_by_bookkeeping(bench):
    # the instrumented searcher draws the same random numbers
    a, _, _ = _toy_search(7)
    b, _, _ = _toy_search(7, True, bench)
    assert a.rng.getstate() == b.rng.getstate()


def test_predictor_init_counts_its_paths_and_starts_from_good_ones(bench):
    import argparse
    space = {f'g{i}': ('a', 'b', 'c', 'd') for i in range(6)}
    weight = {'a': 0, 'b': 1, 'c': 2, 'd': 3}

    def score(p):  # separable, learnable: lower weights are better
        return float(sum(weight[v] * (i + 1) for i, v in
                         enumerate(p.values())))

    def cost(p):
        return dict(params=float(sum(weight[v] for v in p.values())))

    budgets = dict(params=14)
    args = argparse.Namespace(init_predictor=24, init_pool=200, population=6)
    evo = EvolutionSearcher(space, score, cost, budgets, population_size=6,
                            top_k=2, max_iters=1, seed=0)
    bench.predictor_init(args, space, score, cost, budgets, 0, evo)
    trained = set(evo.scores)
    assert len(trained) == 24  # scored, hence counted in the budget
    init = evo.init_population
    assert len(init) == 6
    assert not {evo.key(p) for p in init} & trained
    assert all(cost(p)['params'] <= 14 for p in init)
    # the predictor's picks beat random legal draws of the same pool size
    rand = EvolutionSearcher(space, score, cost, budgets, seed=5)
    draws = []
    rand.random_legal(200, draws)
    assert np.mean([score(p) for p in init]) < np.percentile(
        [score(p) for p in draws], 25)
    top = evo.run()  # generation 0 = the 6 picks; top-k over all 30
    assert len(evo.scores) == 30
    assert top[0][0] == min(evo.scores.values())
