"""benchmarks/bench_fusion_metrics.py --reference: the machine as it is
("idle") and the cores shared (one busy process per core, started and
stopped by the benchmark) in one run, each against the reference evaluator,
with the goals as pass / fail."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from helpers import load_tool
from mmfusenas.search.estimators.resource_estimator import cpu_model


def test_reference_times_idle_and_shared_cores(shared_data, tmp_path,
                                               capsys, monkeypatch):
    bench = load_tool('benchmarks/bench_fusion_metrics.py')
    started, popen = [], subprocess.Popen

    def spy(*args, **kwargs):
        started.append(popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, 'Popen', spy)
    rec = tmp_path / 'rec.json'
    result = bench.main([
        '--data', osp.join(shared_data, 'fusion', 'TNO'), '--pairs', '1',
        '--repeat', '1', '--batch', '1', '--fmi-rows', '1', '--size', '192',
        '192', '--reference', '--results-json', str(rec)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last[len('RESULT '):]) == result
    cores = len(os.sched_getaffinity(0))
    assert (result['cpu_model'], result['cores']) == (cpu_model(), cores)
    assert result['size'] == '192x192' and result['pairs'] == 1
    cases = result['cases']
    assert list(cases) == ['idle', 'shared']
    assert cases['shared']['busy_processes'] == cores
    for name, case in cases.items():
        assert case['ours_ms'] > 0 and case['reference_ms'] > 0
        # one pair: its ratio (of the unrounded times)
        assert case['speedup'] == pytest.approx(
            case['reference_ms'] / case['ours_ms'], rel=0.02, abs=0.1)
        assert len(case['load_avg']) == 2
        goal = {'idle': 30.0, 'shared': 10.0}[name]
        assert result['goals'][name] == dict(
            goal=goal, speedup=case['speedup'],
            passed=case['speedup'] >= goal)
    assert cases['idle']['speedup'] == result['default_speedup']
    # the busy processes ran to the end of the measurement and are gone
    spinners = [p for p in started if p.args[:2] == [sys.executable, '-c']]
    assert len(spinners) == cores
    assert all(p.returncode is not None for p in spinners)
    record = json.loads(rec.read_text())
    assert record['RESULT'] == result
    row = record['result']['cddfuse conventions, TNO 192x192'][
        'suite default (11 metrics), cores shared']
    assert row['speed-up (wall)'] == cases['shared']['speedup']
    assert row['reference ms'] == cases['shared']['reference_ms']
