"""Protocol helpers of benchmarks/bench_search_vs_random.py."""
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    path = osp.join(REPO, 'benchmarks', 'bench_search_vs_random.py')
    spec = importlib.util.spec_from_file_location('bench_svr', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scales(cfg):
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get('type') == 'PairedResize':
                found.append(tuple(node['scale']))
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(cfg._cfg_dict)
    return found


@pytest.mark.parametrize('space', ['tim_neck', 'tim_decoder'])
def test_img_scale_reaches_every_loader_of_search_and_retrain(bench, space):
    spec = bench.SPACES[space]
    assert spec['img_scale'] == (64, 64)
    for key in ('search', 'retrain'):
        cfg = Config.fromfile(osp.join(REPO, spec[key]))
        before = _scales(cfg)
        assert before and set(before) == {(128, 128)}, key
        bench._set_img_scale(cfg._cfg_dict, spec['img_scale'])
        after = _scales(cfg)
        # the weights loader, the alpha loader (search) and the evaluation
        # loaders all resize to the toy pairs' own size
        assert after == [(64, 64)] * len(before), key
    cfg = Config.fromfile(osp.join(REPO, spec['search']))
    bench._set_img_scale(cfg._cfg_dict, (64, 64))
    arch = cfg.train_cfg.arch_dataloader.dataset.pipeline
    train = cfg.train_dataloader.dataset.pipeline
    assert [t.get('scale') for t in arch if t['type'] == 'PairedResize'] == \
        [(64, 64)]
    assert [t.get('scale') for t in train if t['type'] == 'PairedResize'] == \
        [(64, 64)]


def test_rank_percentile_by_hand(bench):
    randoms = [1.0, 2.0, 3.0, 4.0]  # held-out losses, lower is better
    assert bench.rank_pct(0.5, randoms) == 100.0
    assert bench.rank_pct(2.5, randoms) == 50.0
    assert bench.rank_pct(3.0, randoms) == 37.5  # a tie counts half
    assert bench.rank_pct(5.0, randoms) == 0.0


def test_random_draws_do_not_depend_on_the_subset(bench):
    # --random-subset retrains a slice of the same draws: the draws
    # themselves must be a function of (space, n, seed) only
    spec = bench.SPACES['tim_decoder']
    first = bench.random_genotypes(spec, 4, seed=1000)
    again = bench.random_genotypes(spec, 4, seed=1000)
    assert [g.choices for g in first] == [g.choices for g in again]
    assert len({tuple(sorted(g.choices.items())) for g in first}) == 4
    assert all('zero' not in g.choices.values() for g in first)


def test_every_toy_set_takes_the_pair_count_that_main_passes(bench, tmp_path):
    # main() calls DATA[d](root, quick, toy_num or None) for every data set;
    # the night-time set of the chain space once took two arguments only
    import json
    bench.DATA['night'](str(tmp_path), True, 8)
    with open(tmp_path / 'toy_night' / 'meta.json') as f:
        meta = json.load(f)
    assert meta['num_train'] + meta['num_val'] == 8
    for name, make in bench.DATA.items():
        assert make.__code__.co_argcount == 3, name
