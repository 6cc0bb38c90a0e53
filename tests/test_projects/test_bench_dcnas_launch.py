"""The launcher of projects/reproductions/bench_dcnas_control.py on stand-in workers:
finished runs reused, a live worker of an earlier launch adopted (it holds
its process slot), a failed retraining named with its exit code and log."""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest

from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    return load_tool('projects/reproductions/bench_dcnas_control.py')


def _stand_in(geno, seed, out, args):
    """A worker writing its start time as the run JSON."""
    script = ('import json, sys, time; t = time.time(); print("training", '
              'sys.argv[1]); json.dump(dict(genotype=sys.argv[1], start=t), '
              'open(sys.argv[2], "w"))')
    return [sys.executable, '-c', script, geno, out]


def test_reuse_adopt_and_run(bench, tmp_path, monkeypatch, capsys):
    runs = tmp_path / 'runs'
    runs.mkdir()
    jobs = [(f'g{i}', f'g{i}.yaml', 0, str(runs / f'g{i}_t0_i3.json'))
            for i in range(3)]
    (runs / 'g0_t0_i3.json').write_text('{}')  # finished earlier: reused
    # g1: a worker of an interrupted launch, still running (its pid file)
    pid_file = jobs[1][3][:-5] + '.pid'
    earlier = subprocess.Popen([sys.executable, '-c', (
        'import json, os, time\n'
        f'open({pid_file!r} + ".t", "w").write(str(os.getpid()))\n'
        f'os.replace({pid_file!r} + ".t", {pid_file!r})\n'
        'time.sleep(1.0)\n'
        f'json.dump(dict(end=time.time()), open({jobs[1][3]!r}, "w"))\n'
        f'os.remove({pid_file!r})\n')])
    while not osp.isfile(pid_file):
        assert earlier.poll() is None
        time.sleep(0.01)
    monkeypatch.setattr(bench, 'worker_cmd', _stand_in)
    bench.launch_all(jobs, argparse.Namespace(jobs=1))
    earlier.wait()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ('1 runs reused, 1 still running from an earlier '
                      'launch, 1 to do')
    assert [line.split(' in ')[0] for line in out[1:]] == [
        'done g1 seed 0', 'done g2 seed 0']
    g1, g2 = (json.load(open(j[3])) for j in jobs[1:])
    assert g2['genotype'] == 'g2.yaml'
    assert g2['start'] >= g1['end']  # one job: g2 waited for g1's slot
    assert open(jobs[2][3][:-5] + '.log').read() == 'training g2.yaml\n'
    assert json.load(open(jobs[0][3])) == {}  # not run again


def test_a_failed_retraining_names_code_and_log(bench, tmp_path, monkeypatch):
    out = str(tmp_path / 'g5_t1_i3.json')

    def failing(geno, seed, out, args):
        return [sys.executable, '-c',
                'import sys; print("boom: no such genotype"); sys.exit(4)']

    monkeypatch.setattr(bench, 'worker_cmd', failing)
    with pytest.raises(RuntimeError, match=(
            r'retraining g5 \(seed 1\) failed \(exit 4\); log '
            r'.*g5_t1_i3\.log:\nboom: no such genotype')):
        bench.launch_all([('g5', 'g5.yaml', 1, out)],
                         argparse.Namespace(jobs=2))
    assert not os.path.exists(out)
