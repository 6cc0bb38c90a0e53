"""How the fusion metrics use the cores: on the CPU ``compute_fusion_metrics``
computes each metric of each pair on one torch intra-op thread and spreads
these jobs over worker threads (torch's intra-op threads wait for each other
at every small operation: with another process on the cores the default
suite fell to 2.6x the reference evaluator); the values do not depend on the
number of workers; and ``eval_fusion.py`` scores pairs at once
(``fusion_files.in_order``)."""
import os
import os.path as osp
import threading
import time

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.evaluation import fusion_files
from mmfusenas.evaluation.functional import fusion as FF
from mmfusenas.evaluation.fusion_presets import FUSION_PRESETS


@pytest.fixture
def two_threads():
    """torch with 2 intra-op threads (restored after)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(saved)


def _images(n=3, shape=(48, 56), seed=0):
    rng = np.random.default_rng(seed)
    return [torch.from_numpy(np.stack([
        cv2.GaussianBlur(rng.uniform(0, 255, shape), (5, 5), 1.0)
        for _ in range(n)])) for _ in range(3)]


def _real_pairs(shared_data, preset, crop=(256, 320)):
    """Two TNO and one RoadScene pair (cropped) and a fused stand-in that
    is neither source nor their mean."""
    gray = FUSION_PRESETS[preset]['gray']
    out = []
    for name, n in (('TNO', 2), ('RoadScene', 1)):
        d = osp.join(shared_data, 'fusion', name)
        for stem in sorted(os.listdir(osp.join(d, 'ir')))[:n]:
            a, b = (gray(cv2.imread(osp.join(d, m, stem)))[:crop[0], :crop[1]]
                    for m in ('ir', 'vi'))
            f = np.clip(np.round(0.6 * a + 0.4 * b + 0.1 * (a - b)), 0, 255)
            out.append((a, b, f))
    return [torch.from_numpy(np.stack(x)) for x in zip(*out)]


def _spy(monkeypatch, names, seen, delay=0.0):
    """Record ``(metric, torch threads, thread name)`` of each call of the
    cddfuse functions ``names`` (each ``delay`` seconds longer)."""
    fns = FF.PRESET_FNS['cddfuse']
    for m in names:

        def spy(a, b, f, fn=fns[m], m=m):
            seen.append((m, torch.get_num_threads(),
                         threading.current_thread().name))
            time.sleep(delay)
            return fn(a, b, f)

        monkeypatch.setitem(fns, m, spy)


def test_each_pair_is_computed_on_one_intra_op_thread(monkeypatch,
                                                      two_threads):
    """torch has 2 intra-op threads; every metric call of the suite sees
    one, once per metric and pair, and torch has 2 again after."""
    names = ['EN', 'MI', 'VIF', 'Qabf', 'SSIM', 'FMI_pixel']
    seen = []
    _spy(monkeypatch, names, seen)
    out = FF.compute_fusion_metrics(*_images(), 'cddfuse', names)
    assert {n for _, n, _ in seen} == {1}
    assert sorted(m for m, _, _ in seen) == sorted(names * 3)
    assert list(out) == names and all(v.shape == (3, ) for v in out.values())
    assert torch.get_num_threads() == 2


def test_jobs_run_on_this_and_the_pool_threads(monkeypatch, two_threads):
    """2 workers: this thread (which takes the costliest job, a VIF) and one
    pool thread; FMI (on numba's own threads) in this thread after the
    others; 1 worker: all in this thread."""
    names = ['EN', 'VIF', 'Qabf', 'FMI_pixel']
    seen = []
    _spy(monkeypatch, names, seen, delay=0.01)
    for workers in (2, 1):
        seen.clear()
        FF.compute_fusion_metrics(*_images(), 'cddfuse', names,
                                  workers=workers)
        threads = {m: {t for n, _, t in seen if n == m} for m in names}
        assert 'MainThread' in threads['VIF']
        assert threads['FMI_pixel'] == {'MainThread'}
        assert [m for m, _, _ in seen][-3:] == ['FMI_pixel'] * 3
        pool = set().union(*threads.values()) - {'MainThread'}
        if workers == 1:
            assert pool == set()
        else:
            assert len(pool) == 1
            assert pool.pop().startswith('fusion_metrics')
        assert {n for _, n, _ in seen} == {1}
    assert FF.fusion_workers() == min(len(os.sched_getaffinity(0)), 2)


def test_values_do_not_depend_on_the_workers(shared_data):
    a, b, f = _real_pairs(shared_data, 'cddfuse')
    one = FF.compute_fusion_metrics(a, b, f, 'cddfuse', 'all', workers=1)
    for workers in (2, 3):
        many = FF.compute_fusion_metrics(a, b, f, 'cddfuse', 'all',
                                         workers=workers)
        assert list(many) == list(one)
        for m, v in many.items():
            assert torch.equal(v, one[m]), (workers, m)
    # a pair alone: the same numbers as its row of the batch
    single = FF.compute_fusion_metrics(a[1], b[1], f[1], 'cddfuse', 'all')
    assert single == {m: v[1].item() for m, v in one.items()}


def test_errors_are_raised_in_the_order_of_the_metrics(monkeypatch):
    fns = FF.PRESET_FNS['cddfuse']

    def fail(msg, delay):
        def fn(a, b, f):
            time.sleep(delay)
            raise ValueError(msg)
        return fn

    monkeypatch.setitem(fns, 'EN', fail('EN failed', 0.05))  # finishes last
    monkeypatch.setitem(fns, 'VIF', fail('VIF failed', 0.0))
    with pytest.raises(ValueError, match='EN failed'):
        FF.compute_fusion_metrics(*_images(1), 'cddfuse', ['SD', 'EN', 'VIF'],
                                  workers=2)


def test_in_order_scores_jobs_at_once_in_order(two_threads):
    seen = []

    def fn(i):
        seen.append((torch.get_num_threads(), threading.get_ident()))
        time.sleep(0.01 * (3 - i % 3))  # later jobs finish first
        return i * i

    scored = fusion_files.in_order(fn, range(7), 3)
    assert list(scored) == [i * i for i in range(7)]
    assert {n for n, _ in seen} == {1}
    assert threading.get_ident() not in {t for _, t in seen}
    assert torch.get_num_threads() == 2
    seen.clear()
    # 1 worker: in this thread, torch as it is
    assert list(fusion_files.in_order(fn, range(3), 1)) == [0, 1, 4]
    assert seen == [(2, threading.get_ident())] * 3


def test_in_order_raises_at_the_failing_job():
    started = []

    def fn(i):
        started.append(i)
        if i == 2:
            raise ValueError('job 2')
        return i

    scored = fusion_files.in_order(fn, range(100), 2)
    assert [next(scored), next(scored)] == [0, 1]
    with pytest.raises(ValueError, match='job 2'):
        next(scored)
    time.sleep(0.05)
    assert len(started) < 10    # a window of jobs ahead, not all 100
