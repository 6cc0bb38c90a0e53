"""One-shot search rooms: predictor losses, BGRU predictor, LUT path costs,
band sampling and the constrained evolution (exact resumption)."""
import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from mmfusenas.models.gisr import (EXAMPLE_ARCH, DCNASCostModel, DCNASNet,
                                   arch_to_choices, dcnas_space)
from mmfusenas.models.mutables import encode_choices, random_choices
from mmfusenas.search.estimators import (PathCostTable,
                                         ResourceConstraintError,
                                         count_params)
from mmfusenas.search.loops import EvolutionSearcher
from mmfusenas.search.predictors import (BGRUPredictor, kendall_tau,
                                         load_predictor, predict_scores,
                                         ranknet_loss, save_predictor,
                                         spearman_rho, train_predictor)
from mmfusenas.search.strategies import BandSampler


def official_ranknet(preds, labels):
    """The official formula (triu of the full matrices, mean over n^2)."""
    p = preds.reshape(1, -1)
    y = labels.reshape(1, -1)
    pij = torch.sigmoid(p.unsqueeze(2) - p.unsqueeze(1))
    tij = 0.5 * (1 + torch.clamp(y.unsqueeze(2) - y.unsqueeze(1), -1, 1))
    return F.binary_cross_entropy(
        torch.triu(pij, 1), torch.triu(tij, 1), reduction='none').mean()


def test_ranknet_hand_computed():
    s = torch.tensor([0.0, 1.0])
    y = torch.tensor([0.0, 0.5])
    # one pair: logit s0 - s1 = -1, target 0.5 (1 - 0.5) = 0.25, over n^2=4
    sig = 1 / (1 + math.exp(1))
    bce = -(0.25 * math.log(sig) + 0.75 * math.log(1 - sig))
    assert float(ranknet_loss(s, y)) == pytest.approx(bce / 4, rel=1e-6)
    torch.manual_seed(0)
    s, y = torch.randn(7), torch.rand(7) * 3
    assert float(ranknet_loss(s, y)) == pytest.approx(
        float(official_ranknet(s, y)), rel=1e-5)


def test_rank_correlations_match_scipy():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 40).astype(float)  # with ties
    b = a + rng.normal(0, 1.5, 40)
    assert kendall_tau(a, b) == pytest.approx(stats.kendalltau(a, b)[0])
    assert spearman_rho(a, b) == pytest.approx(stats.spearmanr(a, b)[0])


def test_bgru_predictor_structure_and_learning(tmp_path):
    space = dcnas_space(4, 1)
    pred = BGRUPredictor(space)
    # one 16-op table for block genes, one 7-op table for fusion genes
    assert [e.num_embeddings for e in pred.embeddings] == [16, 7]
    assert pred.gru.bias is False and pred.gru.bidirectional
    rng = random.Random(0)
    paths = [random_choices(space, rng) for _ in range(160)]
    codes = np.array([encode_choices(space, p) for p in paths])
    # a learnable ground truth: "loss" = kernel-size budget of the path
    labels = codes[:, :12].sum(1) / 50.0 + 0.3 * (codes[:, 12:] == 4).sum(1)
    train_predictor(pred, codes[:120], labels[:120], 'ranknet', epochs=15,
                    batch_size=32, lr=1e-2)
    est = predict_scores(pred, codes[120:])
    assert kendall_tau(est, labels[120:]) > 0.5
    save_predictor(pred, str(tmp_path / 'p.pth'), note='x')
    again = load_predictor(str(tmp_path / 'p.pth'))
    assert np.allclose(predict_scores(again, codes[120:]), est)
    with pytest.raises(ValueError, match='codes'):
        pred(torch.zeros(2, 3, dtype=torch.long))


@pytest.fixture(scope='module')
def table(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp('lut') / 'costs.json')
    return PathCostTable(
        dict(type='DCNASCostModel', num_features=4, num_blocks=2,
             input_size=(32, 32)),
        cache_file=cache,
        latency_repeats=2,
        latency_warmup=0)


def test_lut_params_exact_and_cached(table):
    rng = random.Random(1)
    for _ in range(3):
        path = random_choices(dcnas_space(4, 2), rng)
        assert table.cost(path)['params'] == count_params(
            DCNASNet(path, num_features=4))
    ex = arch_to_choices(EXAMPLE_ARCH)
    assert table.cost(ex)['params'] == count_params(
        DCNASNet(ex, num_features=4))
    assert table.cost(ex)['latency_ms'] > 0
    # reference: the static example has 544,981 params at C=16
    big = PathCostTable(
        DCNASCostModel(16, (64, 64), num_blocks=2), measure_latency=False)
    assert big.cost(EXAMPLE_ARCH)['params'] == 544981
    again = PathCostTable(table.cost_model, cache_file=table.cache_file,
                          latency_repeats=2, latency_warmup=0)
    assert again.origin.startswith('loaded')
    assert again.cost(ex) == table.cost(ex)


def test_impossible_budget_fails_fast_with_cheapest_cost(table):
    cheapest = table.cost(table.cost_model.cheapest_choices())['params']
    with pytest.raises(ResourceConstraintError,
                       match=f'cheapest legal path costs {cheapest:,.6g}'):
        table.check_budgets(dict(params=cheapest - 1))
    assert table.check_budgets(dict(params=cheapest))['params'] == cheapest
    with pytest.raises(KeyError, match='unknown metrics'):
        table.check_budgets(dict(watts=1))


def test_band_sampler_stays_in_band(table):
    space = dcnas_space(4, 2)
    flops = (lambda p: table.cost(p)['flops'])
    band = BandSampler(space, flops, num_static=30, rng=random.Random(0))
    paths = band.sample(6)
    costs = [flops(p) for p in paths[1:]]
    tau = min(flops(paths[0]), band.hi - band.sigma)
    assert all(tau < c < tau + band.sigma for c in costs)


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


def test_evolution_loop_names_an_unknown_train_cfg_key():
    # a misplaced key (here the supernet loop's ``dataloader`` nesting as
    # ``train_dataloader``) used to reach EvolutionSearcher as a bare
    # "unexpected keyword argument"; the loop names it and what it takes
    import inspect

    from mmfusenas.search.loops import EvolutionSearchLoop
    from mmfusenas.search.loops.evolution_search_loop import SEARCHER_OPTIONS
    searcher_args = set(inspect.signature(EvolutionSearcher).parameters)
    assert set(SEARCHER_OPTIONS) <= searcher_args
    with pytest.raises(TypeError, match=r"\['train_dataloader'\].*"
                       r"population_size"):
        EvolutionSearchLoop(None, None, None, dict(), population_size=4,
                            train_dataloader=dict(batch_size=1))


def test_predictor_label_standardisation():
    from mmfusenas.search.predictors import normalize_labels
    # hand-computed: mean 2, population std sqrt(2/3)
    z = normalize_labels([1.0, 2.0, 3.0], 'standardize')
    assert np.allclose(z, np.array([-1.0, 0.0, 1.0]) / math.sqrt(2 / 3))
    assert normalize_labels([5.0, 5.0], 'standardize').tolist() == [0, 0]
    assert normalize_labels([0.3, 0.1], None).tolist() == [0.3, 0.1]
    with pytest.raises(ValueError, match='label_norm'):
        normalize_labels([1.0, 2.0], 'minmax')
    with pytest.raises(ValueError, match='finite'):
        normalize_labels([1.0, float('nan')], None)
    # labels at the supernet's scale (0.0513 +- 0.0006): the RankNet targets
    # are ~0.5 for every pair; standardised, the same order trains the same
    # predictor whatever the labels' offset and scale
    space = dcnas_space(4, 1)
    rng = random.Random(0)
    codes = np.array([
        encode_choices(space, random_choices(space, rng)) for _ in range(48)
    ])
    y = codes[:, :12].sum(1) / 50.0
    outs = []
    for a, b in ((1.0, 0.0), (1e-3, 0.05)):
        torch.manual_seed(0)
        pred = BGRUPredictor(space)
        train_predictor(pred, codes, a * y + b, 'ranknet', epochs=2,
                        batch_size=16, seed=0, label_norm='standardize')
        outs.append(predict_scores(pred, codes))
    assert np.allclose(outs[0], outs[1], atol=1e-5)
    torch.manual_seed(0)
    pred = BGRUPredictor(space)
    train_predictor(pred, codes, 1e-3 * y + 0.05, 'ranknet', epochs=2,
                    batch_size=16, seed=0)
    assert not np.allclose(predict_scores(pred, codes), outs[0], atol=1e-5)


def test_predictor_sampler_checks_label_norm():
    from mmfusenas.search.strategies import PredictorPathSampler
    sampler = PredictorPathSampler('p.pth', label_norm='standardize')
    assert sampler.label_norm == 'standardize'
    assert PredictorPathSampler('p.pth').label_norm is None
    with pytest.raises(ValueError, match='label_norm'):
        PredictorPathSampler('p.pth', label_norm='zscore')
