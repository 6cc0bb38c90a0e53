"""The chain space of benchmarks/bench_search_vs_random.py: its retraining
protocol (a schedule annealed to the budget, the budget, a flip-free
held-out score, the toy set) and one real retraining through it."""
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import PARAM_SCHEDULERS

from mmfusenas.benchmark.search_spaces import CHAIN_RETRAIN_ITERS, SPACES
from mmfusenas.testing.toy_data.control_sets import CHAIN_TOY_PAIRS, DATA
from helpers import load_tool
from helpers.tools import REPO_ROOT as REPO


@pytest.fixture(scope='module')
def bench():
    return load_tool('benchmarks/bench_search_vs_random.py')


class _Captured(Exception):
    pass


def _retrain_cfg(bench, monkeypatch, quick):
    """The config that ``retrain`` builds its runner from (not trained)."""
    def capture(cfg):
        raise _Captured(cfg)

    monkeypatch.setattr(bench, '_build_runner', capture)
    with pytest.raises(_Captured) as info:
        bench.retrain(SPACES['chain'], 'g.yaml', 0, 'w', quick)
    return info.value.args[0]


@pytest.mark.parametrize('quick', [True, False])
def test_chain_retrains_on_a_schedule_annealed_to_its_budget(
        bench, monkeypatch, quick):
    cfg = _retrain_cfg(bench, monkeypatch, quick)
    iters = CHAIN_RETRAIN_ITERS[0 if quick else 1]
    assert (iters, CHAIN_RETRAIN_ITERS) == (cfg.train_cfg.max_iters,
                                            (150, 300))
    # not the config's schedule, which starts after the 50 warm-up
    # iterations of the ChainStagingHook the benchmark drops
    assert cfg.param_scheduler == bench.annealed_schedule(iters)
    assert all(h['type'] != 'ChainStagingHook' for h in cfg.custom_hooks)
    assert cfg.train_dataloader.batch_size == 4
    # every genotype key points at the genotype
    for key in SPACES['chain']['genotype_keys']:
        node = cfg
        for part in key.split('.'):
            node = node[int(part)] if part.isdigit() else node[part]
        assert node == 'g.yaml', key


@pytest.mark.parametrize('quick', [True, False])
def test_chain_searches_with_the_established_budget(bench, monkeypatch,
                                                    quick):
    """The control's search is the config's own recipe, --quick too: 120
    iterations, alpha batches of 8 (weights 4): at 60 x 4 N_F's alpha
    stayed near uniform and the searched genotypes ranked 0 / 100 %, at
    120 x 8 100 / 100 % (docs/methods/compose.md)."""
    def capture(cfg):
        raise _Captured(cfg)

    monkeypatch.setattr(bench, '_build_runner', capture)
    with pytest.raises(_Captured) as info:
        bench.run_search(SPACES['chain'], 'cooperative', 0, 'w', quick)
    cfg = info.value.args[0]
    own = Config.fromfile(osp.join(REPO, SPACES['chain']['search']))
    assert cfg.train_cfg.max_iters == own.train_cfg.max_iters == 120
    assert cfg.train_cfg.arch_dataloader.batch_size == 8
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.optim_wrapper.arch.optimizer.lr == 1e-2
    assert cfg.randomness.seed == 0


def test_annealed_schedule_by_hand(bench):
    # 0.1x -> 1x over the 20 warm-up iterations (mmengine's LinearLR reaches
    # its end factor at its last iteration, 19), then a cosine to 1e-5 at
    # the budget
    param = torch.nn.Parameter(torch.zeros(1))
    wrapper = OptimWrapper(torch.optim.SGD([param], lr=2e-3))
    scheds = [
        PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper))
        for s in bench.annealed_schedule(150)
    ]
    lrs = []
    for _ in range(150):
        lrs.append(wrapper.optimizer.param_groups[0]['lr'])
        for s in scheds:
            s.step()
    assert lrs[0] == pytest.approx(2e-4)
    assert lrs[10] == pytest.approx(2e-3 * (0.1 + 0.9 * 10 / 19))
    assert lrs[19] == pytest.approx(2e-3)
    assert lrs[20] == pytest.approx(2e-3)
    t = 75 - 20  # the cosine's own step at iteration 75
    assert lrs[75] == pytest.approx(
        1e-5 + (2e-3 - 1e-5) * (1 + math.cos(math.pi * t / 130)) / 2)
    assert all(a > b for a, b in zip(lrs[20:], lrs[21:]))
    assert lrs[-1] < 1.1e-5 + 1e-6  # the last iteration: ~eta_min


def test_chain_score_is_flip_free_on_the_held_out_split(bench, monkeypatch):
    monkeypatch.setattr(bench.Runner, 'build_dataloader',
                        staticmethod(lambda loader, seed=0: loader))
    spec = SPACES['chain']
    cfg = Config.fromfile(osp.join(REPO, spec['retrain']))
    loader = bench._score_loader(cfg, spec)
    types = [t['type'] for t in loader.dataset.pipeline]
    assert 'PairedRandomFlip' not in types
    assert 'LoadPairedAnnotations' in types
    assert 'val' in loader.dataset.ann_file


def test_night_toy_set_has_96_pairs_by_default(tmp_path):
    import json
    assert CHAIN_TOY_PAIRS == 96
    DATA['night'](str(tmp_path), True, None)
    with open(tmp_path / 'toy_night' / 'meta.json') as f:
        meta = json.load(f)
    assert (meta['num_train'], meta['num_val']) == (72, 24)


def test_a_chain_retraining_ends_at_the_annealed_rate(
        bench, monkeypatch, tmp_path):
    # a real (4-iteration) retraining of a random chain genotype through
    # the benchmark's own retrain(): every parameter group ends far below
    # its base rate, the held-out score is finite
    torch.set_num_threads(1)
    DATA['night'](str(tmp_path / 'data'), True, 8)
    genotype = bench.random_genotypes(SPACES['chain'], 1, seed=1000)[0]
    path = str(tmp_path / 'g.yaml')
    genotype.dump(path)
    runners = []
    build = bench._build_runner

    def keep(cfg):
        runners.append(build(cfg))
        return runners[-1]

    monkeypatch.setattr(bench, '_build_runner', keep)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        out = bench.retrain(SPACES['chain'], path, 0,
                            str(tmp_path / 'w'), True,
                            extra={'train_cfg.max_iters': 4})
    finally:
        os.chdir(cwd)
    groups = runners[0].optim_wrapper.optimizer.param_groups
    # the chain (1e-3) and the detector (2e-3) end near eta_min, not at the
    # base rate that the config's schedule (it starts at iteration 50)
    # keeps through a shorter retraining
    assert {g['initial_lr'] for g in groups} == {1e-3, 2e-3}
    assert all(1e-5 < g['lr'] < 0.06 * g['initial_lr'] for g in groups)
    assert math.isfinite(out['score']) and out['score'] > 0
    assert out['params'] > 0
