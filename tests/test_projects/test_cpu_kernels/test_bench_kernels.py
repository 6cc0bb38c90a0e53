"""The kernel micro-benchmarks (projects/cpu_kernels/cpu_kernels/bench_kernels.py): each
mode times the kernels against the operators they replace, checks that
they compute the same function, and ends with one ``RESULT {json}``."""
import json

import pytest
import torch

from cpu_kernels import bench_kernels as BENCH


def _result(out: str) -> dict:
    lines = [x for x in out.splitlines() if x.startswith('RESULT ')]
    assert len(lines) == 1 and out.rstrip().endswith(lines[0])
    return json.loads(lines[0][len('RESULT '):])


def test_modes_and_help(capsys):
    assert list(BENCH.MODES) == ['conv', 'training']
    for mode in BENCH.MODES:
        with pytest.raises(SystemExit) as exc:
            BENCH.main(['--mode', mode, '--help'])
        assert exc.value.code in (0, None)
        assert f"options of mode '{mode}'" in capsys.readouterr().out


def test_conv_mode_times_both_kernels(monkeypatch, capsys, tmp_path):
    """Two small shapes: one Winograd takes, one it declines (three
    outputs: tap products) but is timed on all the same; the rules'
    constants are restored after the forced runs; the record holds the
    table."""
    from cpu_kernels import tap_product_conv as tmod
    from cpu_kernels import winograd_conv as wmod
    if wmod._kernels() is None:
        pytest.skip('Winograd kernels unavailable (numba missing, or the '
                    'cpu_kernels switch winograd / numba off)')
    monkeypatch.setattr(BENCH, 'CONV_SHAPES', ((32, 32, 128, 128, 'a'),
                                               (32, 3, 128, 128, 'b')))
    record = tmp_path / 'conv.json'
    BENCH.main(['--mode', 'conv', '--repeats', '1', '--warmup', '0',
                '--cpu-malloc', 'off', '--results-json', str(record)])
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


def test_training_mode_times_the_fast_path_operators(capsys):
    BENCH.main(['--mode', 'training', '--batch', '1', '--size', '32',
                '--repeats', '1'])
    res = _result(capsys.readouterr().out)
    ops = [r['op'] for r in res['rows']]
    assert len(ops) == 11 and sum('grouped conv' in o for o in ops) == 5
    assert sum('separable' in o for o in ops) == 1
    assert sum('up-sampling' in o for o in ops) == 1
    assert sum('pixel pairs' in o for o in ops) == 2
    for row in res['rows']:
        assert row['aten fwd+bwd'] > 0 and row['fast fwd+bwd'] > 0
        # the ratio of the unrounded medians: within what rounding each
        # time to 0.01 ms (and the ratio to 0.01) allows, not a fixed share
        fast, aten = row['fast fwd+bwd'], row['aten fwd+bwd']
        low = (fast - 0.005) / (aten + 0.005) - 0.005
        high = (fast + 0.005) / max(aten - 0.005, 1e-9) + 0.005
        assert low <= row['ratio'] <= high
        # the same function: outputs and input gradients within rounding
        assert row['max_diff'] < 1e-5 and row['grad_max_diff'] < 1e-5


def test_switched_module_runs_with_its_switch_off():
    from cpu_kernels.switches import get_cpu_kernels
    seen = []

    class Probe(torch.nn.Module):

        def forward(self, x):
            seen.append(get_cpu_kernels().paired_products)
            return x

    BENCH._Switched(Probe(), 'paired_products')(torch.zeros(1))
    BENCH._Switched(Probe())(torch.zeros(1))
    assert seen == [False, True]
    assert get_cpu_kernels().paired_products
