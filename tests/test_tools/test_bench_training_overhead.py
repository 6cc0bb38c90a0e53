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


def test_cfg_options_reach_the_built_optimizer(bench, monkeypatch):
    """``--cfg-options`` parses with mmengine's syntax, is merged into the
    config, and the optimizer built from it carries the setting."""
    from mmengine.optim import build_optim_wrapper
    monkeypatch.setattr(sys, 'argv', [
        'bench', '--cfg-options', 'optim_wrapper.optimizer.fused=True',
        'optim_wrapper.clip_grad.max_norm=3.5'
    ])
    args = bench.parse_args()
    assert args.cfg_options == {
        'optim_wrapper.optimizer.fused': True,
        'optim_wrapper.clip_grad.max_norm': 3.5
    }
    path = 'configs/tim/retinanet_ivif_toy.py'
    cfg = bench.load_config(path, args.cfg_options)
    assert cfg.optim_wrapper.optimizer.fused is True
    assert cfg.optim_wrapper.clip_grad.max_norm == 3.5
    assert 'fused' not in bench.load_config(path).optim_wrapper.optimizer
    net = torch.nn.Linear(3, 2)
    optim = build_optim_wrapper(
        net,
        dict(
            cfg.optim_wrapper,
            constructor='DefaultOptimWrapperConstructor',
            paramwise_cfg={}))
    assert optim.optimizer.defaults['fused'] is True
    assert optim.clip_grad_kwargs['max_norm'] == 3.5
