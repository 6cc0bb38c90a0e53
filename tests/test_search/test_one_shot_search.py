"""One-shot search rooms: predictor losses, BGRU predictor, LUT path costs
and band sampling (the constrained evolution is tested in
``tests/test_search/test_evolution.py``)."""
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
