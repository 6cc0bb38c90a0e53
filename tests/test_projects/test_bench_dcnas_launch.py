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


def _args(tmp_path, **kw):
    """The launcher's options (the training options of every run)."""
    base = dict(jobs=1, lr=1e-3, batch=8, patch=64, toy=str(tmp_path / 'toy'),
                shared_data=str(tmp_path / 'gisr'), device='cpu')
    base.update(kw)
    return argparse.Namespace(**base)


def _jobs(bench, tmp_path, n=3):
    runs = tmp_path / 'runs'
    runs.mkdir(exist_ok=True)
    jobs = []
    for i in range(n):
        geno = tmp_path / f'g{i}.yaml'
        geno.write_text(f'choices: {{op: op{i}}}\n')
        jobs.append((f'g{i}', str(geno), 0, str(runs / f'g{i}_t0_i3.json')))
    return jobs


def _earlier_worker(pid_file, out):
    """A worker of an interrupted launch, still running (its pid file)."""
    earlier = subprocess.Popen([sys.executable, '-c', (
        'import json, os, time\n'
        f'open({pid_file!r} + ".t", "w").write(str(os.getpid()))\n'
        f'os.replace({pid_file!r} + ".t", {pid_file!r})\n'
        'time.sleep(1.0)\n'
        f'json.dump(dict(end=time.time()), open({out!r}, "w"))\n'
        f'os.remove({pid_file!r})\n')])
    while not osp.isfile(pid_file):
        assert earlier.poll() is None
        time.sleep(0.01)
    return earlier


def test_reuse_adopt_and_run(bench, tmp_path, monkeypatch, capsys):
    jobs = _jobs(bench, tmp_path)
    args = _args(tmp_path)
    # finished earlier with the same options: reused
    with open(jobs[0][3], 'w') as f:
        json.dump(dict(options=bench.control_options(args, jobs[0][1])), f)
    # g1: a worker of an interrupted launch, still running (its pid file)
    earlier = _earlier_worker(jobs[1][3][:-5] + '.pid', jobs[1][3])
    monkeypatch.setattr(bench, 'worker_cmd', _stand_in)
    bench.launch_all(jobs, args)
    earlier.wait()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ('1 runs reused, 1 still running from an earlier '
                      'launch, 1 to do')
    assert [line.split(' in ')[0] for line in out[1:]] == [
        'done g1 seed 0', 'done g2 seed 0']
    g1, g2 = (json.load(open(j[3])) for j in jobs[1:])
    assert g2['genotype'] == jobs[2][1]
    assert g2['start'] >= g1['end']  # one job: g2 waited for g1's slot
    assert open(jobs[2][3][:-5] + '.log').read() == \
        f'training {jobs[2][1]}\n'
    assert set(json.load(open(jobs[0][3]))) == {'options'}  # not run again


def test_runs_and_workers_of_other_options_are_refused(
        bench, tmp_path, monkeypatch):
    """Before anything is launched: a finished run of another genotype
    content or other training options is an error naming what differs,
    and so is a live worker of an earlier launch training with other
    options (its ``.options.json``)."""
    jobs = _jobs(bench, tmp_path, n=2)
    args = _args(tmp_path)
    launched = []
    monkeypatch.setattr(bench, 'worker_cmd',
                        lambda *a: launched.append(a) or _stand_in(*a))
    with open(jobs[0][3], 'w') as f:
        json.dump(dict(options=bench.control_options(args, jobs[0][1])), f)
    for changed, key in ((dict(lr=2e-3), 'lr'), (dict(patch=32), 'patch'),
                         (dict(device='cuda'), 'device'),
                         (dict(toy=str(tmp_path)), 'toy'),
                         (dict(shared_data=str(tmp_path)), 'shared_data')):
        with pytest.raises(ValueError, match=rf"g0_t0_i3\.json was run with "
                           rf"other options.*differ in \['{key}'\]"):
            bench.launch_all(jobs, _args(tmp_path, **changed))
    with open(jobs[0][1], 'a') as f:
        f.write('# rewritten by a new search\n')
    with pytest.raises(ValueError, match=r"differ in \['genotype_sha256'\] "
                       r"\(the genotype file changed"):
        bench.launch_all(jobs, args)
    assert launched == []
    os.remove(jobs[0][3])
    # a live worker of other options
    pid_file = jobs[1][3][:-5] + '.pid'
    with open(jobs[1][3][:-5] + '.options.json', 'w') as f:
        json.dump(dict(bench.control_options(args, jobs[1][1]), batch=4), f)
    earlier = _earlier_worker(pid_file, jobs[1][3])
    try:
        with pytest.raises(ValueError, match=r"a worker of an earlier launch "
                           r"\(pid \d+\) is training .*g1_t0_i3\.json with "
                           r"other \['batch'\]"):
            bench.launch_all(jobs, args)
    finally:
        earlier.wait()
    assert launched == []


def test_a_failed_retraining_names_code_and_log(bench, tmp_path, monkeypatch):
    out = str(tmp_path / 'g5_t1_i3.json')
    geno = tmp_path / 'g5.yaml'
    geno.write_text('choices: {}\n')

    def failing(geno, seed, out, args):
        return [sys.executable, '-c',
                'import sys; print("boom: no such genotype"); sys.exit(4)']

    monkeypatch.setattr(bench, 'worker_cmd', failing)
    with pytest.raises(RuntimeError, match=(
            r'retraining g5 \(seed 1\) failed \(exit 4\); log '
            r'.*g5_t1_i3\.log:\nboom: no such genotype')):
        bench.launch_all([('g5', str(geno), 1, out)],
                         _args(tmp_path, jobs=2))
    assert not os.path.exists(out)
