"""Every benchmark of benchmarks/ and of projects/reproductions/: its modes, ``--help`` of each, and short
runs of the modes absorbed from former single-purpose scripts (each ends
with one ``RESULT {json}`` line)."""
import glob
import inspect
import json
import os.path as osp
import sys

import pytest

from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: every general benchmark (benchmarks/) and its modes (the default
#: first); one without modes: ()
BENCHMARKS = {
    'bench_config_seeds.py': (),
    'bench_demo.py': ('demo', 'tests'),
    'bench_fusion_metrics.py': (),
    'bench_fusion_real.py': (),
    'bench_inference.py': ('latency', ),
    'bench_search_speed.py': ('speed', 'hypergradients'),
    'bench_search_vs_random.py': ('control', ),
    'bench_training_overhead.py': ('overhead', 'reliability', 'distributed',
                                   'framework', 'defaults'),
}
#: the method-specific reproductions (projects/reproductions/)
REPRODUCTIONS = {
    'bench_dcnas_control.py': ('control', 'search', 'retrain', 'real'),
    'bench_hbl.py': (),
    'bench_hyper_guidance.py': (),
    'bench_neck_anchor_levels.py': (),
    'bench_official_cost.py': ('tim_cost', 'ruas'),
    'bench_pmi.py': (),
    'bench_registration.py': (),
    'bench_task_guidance.py': ('guidance', 'compose'),
    'bench_task_necks.py': ('necks', 'decoders'),
    'bench_tim_two_stage.py': ('two_stage', 'single_op'),
}
MODES = {**BENCHMARKS, **REPRODUCTIONS}


def _folder(name):
    return 'benchmarks' if name in BENCHMARKS else 'projects/reproductions'


def _bench(name):
    return load_tool(f'{_folder(name)}/{name}')


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
    for folder, names in (('benchmarks', BENCHMARKS),
                          ('projects/reproductions', REPRODUCTIONS)):
        found = sorted(
            osp.basename(p) for p in glob.glob(
                osp.join(REPO, *folder.split('/'), '*.py')))
        assert found == sorted(names), folder
    assert len(BENCHMARKS) <= 8


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
    bench = _bench('bench_official_cost.py')
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
    bench = _bench('bench_official_cost.py')
    _call(bench.main, ['--mode', 'ruas', '--skip-quality', '--repeats', '1',
                       '--warmup', '0'], monkeypatch)
    result = _result(capsys.readouterr().out)
    assert [r['variant'] for r in result['cost']][:1] == ['RUAS_s']
    assert result['quality'] == []


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


def test_inference_switch_modes_turn_one_kernel_off():
    """bench_inference.py's ``no:SWITCH`` modes (and their former names
    ``nchw``, ``aten_conv``, ...) run the eager network with that one CPU
    kernel switch off for the call; other names are refused."""
    import argparse
    from cpu_kernels.switches import SWITCHES, get_cpu_kernels
    bench = _bench('bench_inference.py')
    assert set(bench.SWITCH_ALIASES.values()) <= set(SWITCHES)
    assert bench.switch_of('no:winograd') == 'winograd'
    assert bench.switch_of('nchw') == 'channels_last'
    assert bench.switch_of('fold_bn') is None
    assert bench.mode_name('no:direct_conv') == 'no:direct_conv'
    for bad in ('no:turbo', 'fastest'):
        with pytest.raises(argparse.ArgumentTypeError, match='no:SWITCH'):
            bench.mode_name(bad)
    assert bench.ORT_MODES['ort_no_commuted_upsampling'][1] == dict(
        export_switches=dict(commuted_upsampling=False))
    seen = []

    def net(x):
        seen.append(get_cpu_kernels().as_dict())
        return x

    for switch in SWITCHES:
        assert bench._eager_without(switch, net, 3) == 3
        assert [k for k, on in seen[-1].items() if not on] == [switch]
    assert all(get_cpu_kernels().as_dict().values())


def test_inference_benchmark_times_the_plain_network():
    """The RUAS cost reproduction times the toolbox network as the
    inference tools run it by default: the plain model, no CPU kernel class
    swapped in."""
    from cpu_kernels import plain_class
    bench = _bench('bench_official_cost.py')
    net = bench.build('RUAS_s')
    assert all(plain_class(m) is type(m) for m in net.modules())
    assert not net.training
