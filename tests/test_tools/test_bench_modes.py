"""Every benchmark of benchmarks/: its modes, ``--help`` of each, and short
runs of the modes absorbed from former single-purpose scripts (each ends
with one ``RESULT {json}`` line)."""
import glob
import inspect
import json
import os.path as osp
import sys

import pytest

from mmfusenas.testing import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: every benchmark and its modes (the default first); one without modes: ()
MODES = {
    'bench_config_seeds.py': (),
    'bench_dcnas_control.py': ('control', 'search', 'retrain', 'real'),
    'bench_fusion_metrics.py': (),
    'bench_fusion_real.py': (),
    'bench_hbl.py': (),
    'bench_hyper_guidance.py': (),
    'bench_inference.py': ('latency', 'tim_cost', 'ruas', 'conv_kernels'),
    'bench_pmi.py': (),
    'bench_registration.py': (),
    'bench_search_speed.py': ('speed', 'hypergradients'),
    'bench_search_vs_random.py': ('control', 'anchor_levels'),
    'bench_task_guidance.py': ('guidance', 'compose'),
    'bench_task_driven.py': (),
    'bench_task_necks.py': ('necks', 'decoders'),
    'bench_tim_two_stage.py': ('two_stage', 'single_op'),
    'bench_training_overhead.py': ('overhead', 'reliability', 'distributed',
                                   'kernels', 'framework'),
}


def _bench(name):
    sys.path.insert(0, osp.join(REPO, 'benchmarks'))
    return load_tool(f'benchmarks/{name}')


def _call(main, argv, monkeypatch):
    """``main(argv)``, or ``main()`` with ``sys.argv`` set when it takes
    none (the way the script runs it)."""
    if inspect.signature(main).parameters:
        return main(argv)
    monkeypatch.setattr(sys, 'argv', ['bench'] + list(argv))
    return main()


def _result(out: str) -> dict:
    lines = [x for x in out.splitlines() if x.startswith('RESULT ')]
    assert len(lines) == 1 and out.rstrip().endswith(lines[0])
    return json.loads(lines[0][len('RESULT '):])


def test_the_benchmark_list_is_complete():
    found = sorted(
        osp.basename(p)
        for p in glob.glob(osp.join(REPO, 'benchmarks', '*.py')))
    assert found == sorted(MODES)
    assert len(found) <= 16


@pytest.mark.parametrize('name', sorted(MODES))
def test_help_of_every_mode(name, monkeypatch, capsys):
    bench = _bench(name)
    modes = MODES[name]
    assert tuple(getattr(bench, 'MODES', ())) == modes
    for mode in modes or (None, ):
        argv = ['--help'] if mode is None else ['--mode', mode, '--help']
        with pytest.raises(SystemExit) as exc:
            _call(bench.main, argv, monkeypatch)
        assert exc.value.code in (0, None)
        out = capsys.readouterr().out
        assert 'usage:' in out and '\nRESULT {' not in out
        if mode is not None:
            assert f"options of mode '{mode}'" in out


def test_unknown_mode_is_refused(monkeypatch):
    bench = _bench('bench_search_speed.py')
    with pytest.raises(SystemExit, match="'nope': not one of"):
        bench.main(['--mode', 'nope'])


def test_hypergradients_mode_on_closed_forms(capsys):
    bench = _bench('bench_search_speed.py')
    bench.main(['--mode', 'hypergradients', '--outer', '3', '--inner', '2'])
    result = _result(capsys.readouterr().out)
    assert set(result) == {'ridge1d', 'quadratic'}
    for problem in result.values():
        stars = {json.dumps(r['alpha_star']) for r in problem.values()}
        assert len(stars) == 1  # one closed-form optimum per problem
    # DARTS second order is the exact hypergradient of the scalar problem
    assert result['ridge1d']['DARTS-2nd']['cosine'] == pytest.approx(1.0)
    # first-order DARTS has no hypergradient when F ignores alpha
    assert result['ridge1d']['DARTS-1st']['cosine'] is None


def test_tim_cost_mode_counts_the_official_networks(monkeypatch, capsys):
    bench = _bench('bench_inference.py')
    _call(bench.main, ['--mode', 'tim_cost', '--repeats', '1', '--warmup',
                       '0', '--shape', '16', '16'], monkeypatch)
    result = _result(capsys.readouterr().out)
    rows = {r['model'].strip(): r for r in result['rows']}
    # the paper's parameter counts (TIM Tables 1 and 8) are met exactly
    two_stage = rows['IVIF two-stage (TIM_w/oL)']
    assert two_stage['params (M)'] == two_stage['paper params (M)'] == '1.232'
    stage1 = rows['its stage 1 (N_F, Table 8 lambda=0.5)']
    assert stage1['params (M)'] == '0.995'
    assert result['shape'] == [16, 16]


def test_reliability_mode_times_every_guarantee(monkeypatch, capsys):
    bench = _bench('bench_training_overhead.py')
    _call(bench.main, ['--mode', 'reliability', '--repeat', '1'],
          monkeypatch)
    result = _result(capsys.readouterr().out)
    assert result['repeat'] == 1
    assert [r['model'] for r in result['rows']] == [
        'TIM fusion net (toy)', 'TIM search supernet (toy)']
    for row in result['rows']:
        assert row['params'] > 0 and row['ckpt_mb'] > 0
        for key in ('step_ms', 'guard_ms', 'finite_check_ms',
                    'write_atomic_ms', 'check_file_ms', 'full_load_ms'):
            assert row[key] > 0
        assert row['guard_pct'] == pytest.approx(
            100 * row['guard_ms'] / row['step_ms'])


@pytest.mark.slow
def test_ruas_mode_cost_at_the_lol_size(monkeypatch, capsys):
    bench = _bench('bench_inference.py')
    _call(bench.main, ['--mode', 'ruas', '--skip-quality', '--repeats', '1',
                       '--warmup', '0'], monkeypatch)
    result = _result(capsys.readouterr().out)
    assert [r['variant'] for r in result['cost']][:1] == ['RUAS_s']
    assert result['quality'] == []


def test_conv_kernels_mode_times_both_kernels(monkeypatch, capsys,
                                              tmp_path):
    """Two small shapes: one Winograd takes, one it declines (three
    outputs: tap products) but is timed on all the same; the rules'
    constants are restored after the forced runs; the record holds the
    table."""
    from mmfusenas.cpu_ops import tap_product_conv as tmod
    from mmfusenas.cpu_ops import winograd_conv as wmod
    if wmod._kernels() is None:
        pytest.skip('Winograd kernels unavailable (numba missing, or the '
                    'cpu_kernels switch winograd / numba off)')
    bench = _bench('bench_inference.py')
    monkeypatch.setattr(bench, 'CONV_SHAPES', ((32, 32, 128, 128, 'a'),
                                               (32, 3, 128, 128, 'b')))
    record = tmp_path / 'conv.json'
    _call(bench.main, ['--mode', 'conv_kernels', '--repeats', '1',
                       '--warmup', '0', '--cpu-malloc', 'off',
                       '--results-json', str(record)], monkeypatch)
    result = _result(capsys.readouterr().out)
    table = result['results']['3 x 3 convolutions, channels-last, 1 thread']
    wide, narrow = table['32 -> 32 at 128x128'], table['32 -> 3 at 128x128']
    assert (wide['kernel'], narrow['kernel']) == ('Winograd', 'tap products')
    assert wide['tap products ms'] == '-' and narrow['tap products ms'] > 0
    for row in (wide, narrow):
        assert row['x oneDNN'] == pytest.approx(
            row['Winograd ms'] / row['oneDNN ms'], rel=0.03, abs=0.011)
        assert min(row[k] for k in ('input transform ms', 'products ms',
                                    'output transform ms')) > 0
    assert (wmod.WINOGRAD_MIN_OUT_CHANNELS, wmod.WINOGRAD_MIN_PIXELS,
            tmod.TAP_PRODUCT_MAX_OUT_CHANNELS) == (24, 16384, 3)
    assert json.loads(record.read_text())['result'] == result['results']


@pytest.mark.slow
def test_distributed_mode_one_rank(monkeypatch, capsys):
    bench = _bench('bench_training_overhead.py')
    _call(bench.main, ['--mode', 'distributed', '--ranks', '1', '--steps',
                       '1', '--warmup', '0', '--size', '16', '--batch', '1'],
          monkeypatch)
    assert _result(capsys.readouterr().out)


@pytest.mark.slow
def test_single_op_mode_quick(monkeypatch, capsys):
    bench = _bench('bench_tim_two_stage.py')
    _call(bench.main, ['--mode', 'single_op', '--quick'],
          monkeypatch)
    assert _result(capsys.readouterr().out)


def test_kernels_mode_times_the_fast_path_operators(monkeypatch, capsys):
    bench = _bench('bench_training_overhead.py')
    _call(bench.main, ['--mode', 'kernels', '--batch', '1', '--size', '32',
                       '--repeats', '1'], monkeypatch)
    res = _result(capsys.readouterr().out)
    ops = [r['op'] for r in res['rows']]
    assert len(ops) == 11 and sum('grouped conv' in o for o in ops) == 5
    assert sum('separable' in o for o in ops) == 1
    assert sum('up-sampling' in o for o in ops) == 1
    assert sum('pixel pairs' in o for o in ops) == 2
    for row in res['rows']:
        assert row['aten fwd+bwd'] > 0 and row['fast fwd+bwd'] > 0
        # the ratio of the unrounded medians (ms rounded to 0.01)
        assert row['ratio'] == pytest.approx(
            row['fast fwd+bwd'] / row['aten fwd+bwd'], rel=0.2, abs=0.02)
        # the same function: outputs and input gradients within rounding
        assert row['max_diff'] < 1e-5 and row['grad_max_diff'] < 1e-5


def test_vif_agreement_mode_compares_both_filters(tmp_path, monkeypatch,
                                                  capsys):
    import cv2
    import numpy as np
    from mmfusenas.evaluation.functional import fusion as FF
    from mmfusenas.evaluation.functional import fusion_kernels as FK
    if not FK.filter_ok(FF._gauss1d(9, 1.8)):
        pytest.skip('numba not importable: no compiled filter to compare')
    rng = np.random.default_rng(0)
    for sub in ('ir', 'vi'):
        (tmp_path / sub).mkdir()
    for name, (h, w) in (('a.png', (48, 56)), ('b.png', (64, 50))):
        for sub in ('ir', 'vi'):
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            cv2.imwrite(str(tmp_path / sub / name), img)
    (tmp_path / 'ir' / 'notes.txt').write_text('not an image')
    record = tmp_path / 'results' / 'vif.json'
    record.parent.mkdir()
    bench = _bench('bench_fusion_metrics.py')
    _call(bench.main, ['--vif-agreement', '--data', str(tmp_path),
                       '--results-json', str(record)], monkeypatch)
    res = _result(capsys.readouterr().out)
    assert res['pairs'] == 2
    for key in ('compiled', 'opencv'):
        assert 0 <= res[f'{key}_max_rel_diff'] < 1e-9
        assert res[f'{key}_median_rel_diff'] <= res[f'{key}_max_rel_diff']
    rows = json.loads(record.read_text())['result'][
        'VIF against the reference evaluator']
    assert sorted(rows) == ['a.png', 'b.png']
    assert rows['b.png']['size'] == '50x64'
    # switched back after the OpenCV runs
    from mmfusenas.utils.cpu_kernels import get_cpu_kernels
    assert FK.USE_FILTER and get_cpu_kernels().metric_filters


def test_inference_switch_modes_turn_one_kernel_off():
    """bench_inference.py's comparison modes (``nchw``, ``aten_conv``, ...)
    run the eager network with one CPU kernel switch off for the call."""
    from mmfusenas.utils.cpu_kernels import SWITCHES, get_cpu_kernels
    bench = _bench('bench_inference.py')
    assert set(bench.SWITCH_MODES.values()) <= set(SWITCHES)
    assert bench.ORT_MODES['ort_no_commuted_upsampling'][1] == dict(
        export_switches=dict(commuted_upsampling=False))
    seen = []

    def net(x):
        seen.append(get_cpu_kernels().as_dict())
        return x

    for switch in bench.SWITCH_MODES.values():
        assert bench._eager_without(switch, net, 3) == 3
        assert [k for k, on in seen[-1].items() if not on] == [switch]
    assert all(get_cpu_kernels().as_dict().values())


def test_inference_benchmark_times_the_cpu_kernels():
    """bench_inference.py times the toolbox network as it runs at
    inference: with its CPU kernel classes swapped in
    (:func:`mmfusenas.cpu_ops.apply_cpu_kernels`, the inference tools'
    default ``--optimize cpu_kernels``), same weights as the plain one."""
    from mmfusenas.cpu_ops import plain_class
    bench = _bench('bench_inference.py')
    net = bench.build('RUAS_s')
    kernels = {type(m).__name__ for m in net.modules()
               if plain_class(m) is not type(m)}
    assert {'CpuRUASConv', 'CpuRUASDistillationCell',
            'CpuRUASIlluminationStage'} <= kernels
    assert not net.training
