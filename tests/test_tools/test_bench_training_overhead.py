"""bench_training_overhead: device handling and the synchronised clock."""
import sys

import pytest
import torch

from mmfusenas.testing import load_tool


@pytest.fixture(scope='module')
def bench():
    return load_tool('benchmarks/bench_training_overhead.py')


def test_device_option_defaults_to_cpu(bench, monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['bench'])
    assert bench.parse_args().device == 'cpu'
    monkeypatch.setattr(sys, 'argv', ['bench', '--device', 'cuda'])
    assert bench.parse_args().device == 'cuda'


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the no-GPU error')
def test_cuda_without_a_gpu_is_a_clear_error(bench, monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['bench', '--device', 'cuda'])
    with pytest.raises(SystemExit, match='torch sees no CUDA device'):
        bench.main()


def test_timer_parts_add_up_on_cpu(bench, monkeypatch):
    """The parts of a ``Timer`` partition the wall time between laps."""
    clock = iter([10.0, 10.5, 12.0, 12.25])
    monkeypatch.setattr(bench.time, 'perf_counter', lambda: next(clock))
    monkeypatch.setattr(bench, 'DEVICE', torch.device('cpu'))
    tm = bench.Timer()
    tm.lap('a')
    tm.lap('b')
    tm.lap('a')
    assert tm.parts == {'a': 0.75, 'b': 1.5}
