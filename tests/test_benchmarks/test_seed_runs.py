import os.path as osp

import pytest

from mmfusenas.benchmark.seed_runs import (collect_seed_runs, seed_dir,
                                           seed_stats)


def test_seed_dir():
    assert seed_dir('work_dirs/x', 3) == osp.join('work_dirs/x', 'seed_3')


def test_collect_seed_runs_order_folders_and_missing(tmp_path):
    calls, logged = [], []

    def run(key, seed, out):
        calls.append((seed, key, out))
        return None if (seed, key) == (1, 'b') else dict(v=10 * seed + len(key))

    out = collect_seed_runs([0, 1], ['a', 'b'], run, str(tmp_path),
                            log=logged.append, label=str.upper)
    # seed-major, each seed in its own (created) folder
    assert [(s, k) for s, k, _ in calls] == [(0, 'a'), (0, 'b'), (1, 'a'),
                                             (1, 'b')]
    assert [o for *_, o in calls] == [str(tmp_path / 'seed_0')] * 2 + [
        str(tmp_path / 'seed_1')] * 2
    assert (tmp_path / 'seed_0').is_dir() and (tmp_path / 'seed_1').is_dir()
    # the run that is not there is left out and named in the log
    assert out == {0: {'a': dict(v=1), 'b': dict(v=1)}, 1: {'a': dict(v=11)}}
    assert logged == ['[B] seed 1 not run yet: left out of the report']


def test_collect_seed_runs_flat_and_without_folder(tmp_path):
    seen = []
    collect_seed_runs([5], ['k'], lambda k, s, o: seen.append(o) or {},
                      str(tmp_path), per_seed_dirs=False)
    collect_seed_runs([5], ['k'], lambda k, s, o: seen.append(o) or {}, None)
    assert seen == [str(tmp_path), None]
    assert not (tmp_path / 'seed_5').exists()


def test_seed_stats_by_hand():
    st = seed_stats({0: 1.0, 1: 2.0, 3: 6.0})
    assert st['mean'] == pytest.approx(3.0)
    # population std: sqrt(((1-3)^2 + (2-3)^2 + (6-3)^2) / 3) = sqrt(14/3)
    assert st['std'] == pytest.approx((14 / 3)**0.5)
    assert st['per_seed'] == {'0': 1.0, '1': 2.0, '3': 6.0}
    assert seed_stats({7: 2.5}) == dict(mean=2.5, std=0.0,
                                        per_seed={'7': 2.5})
    with pytest.raises(ValueError, match='at least one seed'):
        seed_stats({})
