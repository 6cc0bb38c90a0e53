"""Protocol of benchmarks/bench_dcnas_control.py: deterministic legal
random draws, rank percentiles and the criterion on hand-made results."""
import argparse
import os.path as osp
import sys

import pytest

from mmfusenas.models.gisr import DCNASNet
from mmfusenas.models.mutables import Genotype
from mmfusenas.search.estimators import count_params
from mmfusenas.testing import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    # the benchmark imports bench_search_vs_random from its folder
    sys.path.insert(0, osp.join(REPO, 'benchmarks'))
    return load_tool('benchmarks/bench_dcnas_control.py')


def test_rank_pct_hand_values(bench):
    randoms = [1.0, 2.0, 3.0, 4.0]
    assert bench.rank_pct(0.5, randoms) == 100.0
    assert bench.rank_pct(2.5, randoms) == 50.0
    assert bench.rank_pct(2.0, randoms) == 62.5  # tie counts half
    assert bench.rank_pct(9.0, randoms) == 0.0


def test_random_draws_are_legal_distinct_and_deterministic(
        bench, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the LUT cache goes to work_dirs/
    budget = 2.5e5
    paths, costs = bench.random_legal_genotypes(4, budget, seed=7)
    again, _ = bench.random_legal_genotypes(4, budget, seed=7)
    other, _ = bench.random_legal_genotypes(4, budget, seed=8)
    assert paths == again and paths != other
    keys = {tuple(sorted(DCNASNet.canonical_path(p).items()))
            for p in paths}
    assert len(keys) == 4
    for p, c in zip(paths, costs):
        n = count_params(DCNASNet(p, num_features=8))
        assert n == c['params'] <= budget


def _geno(tmp_path, name, op):
    keys = bench_keys()
    arch = {k: ('cat' if k.startswith('fusion') else op) for k in keys}
    f = str(tmp_path / f'{name}.yaml')
    Genotype(choices=arch, network=dict(type='DCNASNet', num_features=8,
                                        arch=arch)).dump(f)
    return f


def bench_keys():
    from mmfusenas.models.gisr import dcnas_keys
    return dcnas_keys(4, 2)


def test_report_ranks_and_criterion(bench, tmp_path):
    # 2 searched, 4 random genotypes, 2 training seeds; RMSE values made up
    files = {'searched0': _geno(tmp_path, 's0', 'mb_k3_r2'),
             'searched1': _geno(tmp_path, 's1', 'mb_k3_r3')}
    for i, op in enumerate(['mb_k3_r4', 'mb_k5_r2', 'mb_k5_r3', 'skip']):
        files[f'random{i}'] = _geno(tmp_path, f'r{i}', op)
    rmse = {  # (seed 0, seed 1) on every test set
        'searched0': (1.0, 1.2),   # mean 1.1: better than every random
        'searched1': (2.6, 2.0),   # mean 2.3: between random1 and random2
        'random0': (1.5, 1.5), 'random1': (2.0, 2.2),
        'random2': (3.0, 3.0), 'random3': (4.0, 4.0)}
    runs = {}
    for n, (a, b) in rmse.items():
        for s, v in ((0, a), (1, b)):
            runs[(n, s)] = dict(toy=v, Middlebury=v, Lu=v, bicubic_toy=9.0,
                                bicubic_Middlebury=9.0, bicubic_Lu=9.0)
    args = argparse.Namespace(train_seeds=[0, 1], supernet=None, iters=1,
                              batch=8, patch=64, budget=3e5)
    res = bench.report(args, files, runs)
    g = res['genotypes']
    assert g['searched0']['rank_pct']['Lu'] == 100.0
    assert g['searched1']['rank_pct']['Lu'] == 50.0
    # per training seed: seed 0 2.6 beats 3.0, 4.0; seed 1 2.0 beats 2.2,
    # 3.0, 4.0
    assert g['searched1']['rank_pct_per_seed']['toy'] == [50.0, 75.0]
    assert g['searched1']['Middlebury'] == pytest.approx(2.3)
    # strictly above the median (50 %) needed in every search seed
    assert res['criterion_above_median_every_seed'] == dict(
        toy=False, Middlebury=False, Lu=False)
    assert g['random3']['params'] == count_params(
        DCNASNet(Genotype.load(files['random3']).choices, num_features=8))
    assert res['bicubic'] == dict(toy=9.0, Middlebury=9.0, Lu=9.0)
