"""bench_training_overhead: device handling and the synchronised clock."""
import sys

import pytest
import torch

from helpers import load_tool


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


# ------------------------------------------------------ --mode framework
FRAMEWORK_KEYS = {
    'config', 'device', 'batch', 'shape', 'rounds', 'warmup', 'threads',
    'cached_batches', 'params', 'loss', 'toolbox_ms', 'parts_ms',
    'parts_sum_ms', 'parts_vs_run_iter_pct', 'plain_ms', 'ratio',
    'ratio_without_data', 'target', 'reached', 'reached_without_data',
    'load', 'cfg_options'
}


def test_framework_mode_on_the_toy_config(bench, tmp_path, monkeypatch,
                                          capsys):
    """The runner's step and the plain loop of the toy fusion config: the
    same network (parameters, loss on one batch), every part timed, the
    parts adding up to ``run_iter``; nothing written where it runs."""
    import json

    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    generate_toy_dataset(str(tmp_path / 'toy'), num=8, seed=0, size=128,
                         val_fraction=0.25)
    monkeypatch.chdir(tmp_path)
    record = tmp_path / 'record.json'
    result = bench.main([
        '--mode', 'framework', '--config', 'configs/baselines/fusion_toy.py',
        '--data-root', str(tmp_path / 'toy'), '--rounds', '2', '--warmup',
        '1', '--cached-batches', '2', '--cfg-options',
        'train_dataloader.batch_size=2', '--results-json',
        str(record)
    ])
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if x.startswith('RESULT ')]
    assert len(lines) == 1 and out.rstrip().endswith(lines[0])
    assert json.loads(lines[0][len('RESULT '):]) == json.loads(
        json.dumps(result))
    assert set(result) == FRAMEWORK_KEYS
    assert result['batch'] == 2 and result['shape'] == [2, 128, 128]
    assert result['threads'] == 1 and result['rounds'] == 2
    assert result['device'] == 'cpu'
    # the same architecture and loss on both sides
    assert result['params']['toolbox'] == result['params']['plain'] > 0
    assert result['loss']['plain'] == pytest.approx(
        result['loss']['toolbox'], rel=1e-5)
    parts = result['parts_ms']
    assert set(parts) == {'hooks', 'preprocess', 'forward', 'backward',
                          'optim'}
    assert all(v > 0 for v in parts.values())
    assert all(v > 0 for v in result['plain_ms'].values())
    assert result['parts_sum_ms'] == pytest.approx(sum(parts.values()),
                                                   rel=0.5)
    run_iter = result['toolbox_ms']['run_iter']
    # two rounds on a shared machine: a loose bound
    assert 0.5 < result['parts_sum_ms'] / run_iter < 2.0
    assert result['toolbox_ms']['step'] >= run_iter
    assert result['ratio'] == pytest.approx(
        result['toolbox_ms']['step'] / result['plain_ms']['step'], rel=0.02)
    assert 'toolbox / plain = ' in out and 'parts sum to ' in out
    rec = json.loads(record.read_text())
    assert '--mode framework' in rec['command']
    rows = rec['result']['fusion_toy (ms)']
    assert len(rows) == 2
    # the runner's work dir was temporary
    assert sorted(p.name for p in tmp_path.iterdir()) == ['record.json',
                                                          'toy']


def test_framework_mode_missing_config_or_data(bench, tmp_path, monkeypatch,
                                               capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        bench.main(['--mode', 'framework', '--config', 'nope/missing.py'])
    assert exc.value.code == 2
    assert 'config file not found: nope/missing.py' in capsys.readouterr().err
    # the toy config's data folder (data/toy, relative to here) is missing
    with pytest.raises(SystemExit) as exc:
        bench.main(['--mode', 'framework', '--config',
                    'configs/baselines/fusion_toy.py'])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert 'data/toy/' in err and 'fusion_toy.py' in err
    assert list(tmp_path.iterdir()) == []


def test_compare_kernels_reads_the_switches(bench, monkeypatch):
    """``--compare-kernels SWITCH=BOOL``; ``--compare-env`` (the old name)
    also reads the former environment switches ``MMFUSENAS_NO_<S>=1``; an
    unknown switch or value is refused naming the valid ones."""
    monkeypatch.setattr(sys, 'argv', [
        'bench', '--compare-kernels', 'grouped_conv=False',
        'separable_filter=0'])
    args = bench.parse_args()
    assert bench.kernel_switches(args.compare_kernels) == dict(
        grouped_conv=False, separable_filter=False)
    monkeypatch.setattr(sys, 'argv', [
        'bench', '--compare-env', 'MMFUSENAS_NO_PAIRED_PRODUCTS=1',
        'MMFUSENAS_NO_SEPARABLE_FILTER=1'])
    args = bench.parse_args()
    assert bench.kernel_switches(args.compare_kernels) == dict(
        paired_products=False, separable_filter=False)
    with pytest.raises(SystemExit, match="unknown switch 'winogard'; the "
                       'valid ones are numba, winograd'):
        bench.kernel_switches(['winogard=False'])
    with pytest.raises(SystemExit, match='expected SWITCH=BOOL'):
        bench.kernel_switches(['winograd=maybe'])


def test_data_dir_is_reused_only_for_the_requested_toy_set(
        bench, tmp_path, monkeypatch):
    """--data-dir: a toy set is generated where there is none and reused
    when its meta.json records the requested --num (seed 0, the generator's
    defaults); a set of other pairs or options is refused, naming them,
    before any config is built. The timing itself is stubbed."""
    import json

    class Built(Exception):
        pass

    roots = []

    def fake_run_config(path, args, root):
        roots.append(root)
        raise Built

    monkeypatch.setattr(bench, 'run_config', fake_run_config)
    root = tmp_path / 'toy'

    threads = ['--threads', str(torch.get_num_threads())]  # left as is

    def run(*extra):
        with pytest.raises(Built):
            bench.main(['--data-dir', str(root), '--configs', 'c.py',
                        *threads, *extra])

    run('--num', '4')
    meta = json.loads((root / 'meta.json').read_text())
    assert meta['num'] == 4 and meta['seed'] == 0
    stamp = (root / 'meta.json').stat().st_mtime_ns
    run('--num', '4')  # the same set: reused, not written again
    assert (root / 'meta.json').stat().st_mtime_ns == stamp
    assert roots == [str(root)] * 2
    with pytest.raises(ValueError, match=r"holds a toy set made with other "
                       r"num 4 \(this run: 5\)"):
        bench.main(['--data-dir', str(root), '--num', '5', *threads])
    meta['options']['night_darkness'] = 4.0
    (root / 'meta.json').write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"options\.night_darkness 4\.0 "
                       r"\(this run: 1\.0\)"):
        bench.main(['--data-dir', str(root), '--num', '4', *threads])
    assert len(roots) == 2
