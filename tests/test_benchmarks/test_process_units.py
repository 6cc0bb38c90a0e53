"""The process scheduler of the benchmarks: dependency order, the job
limit, a failing unit stops the run with its exit code and log tail,
results equal to the in-process (sequential) run, adopted workers."""
import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest

from mmfusenas.benchmark.process_units import (AdoptedProcess, ProcessUnit,
                                               launch_unit_worker, pid_alive,
                                               run_process_units)

# a unit: a seeded value plus the values of the units it waits for (read
# from their result files: a unit started too early fails), written
# atomically; the same function runs in process for the sequential run
WORKER = '''
import json, os, random, sys, time


def compute(uid, dep_files):
    deps = [json.load(open(f))['value'] for f in dep_files]
    return dict(value=random.Random(uid).random() + sum(deps), deps=deps)


if __name__ == '__main__':
    uid, result, sleep = sys.argv[1], sys.argv[2], float(sys.argv[3])
    print('worker', uid, 'starts', flush=True)
    out = compute(uid, sys.argv[4:])
    time.sleep(sleep)
    with open(result + '.tmp', 'w') as f:
        json.dump(out, f)
    os.replace(result + '.tmp', result)
'''


@pytest.fixture
def worker(tmp_path):
    path = tmp_path / 'worker.py'
    path.write_text(WORKER)
    sys.path.insert(0, str(tmp_path))
    import importlib
    module = importlib.import_module('worker')
    yield str(path), module
    sys.path.remove(str(tmp_path))
    sys.modules.pop('worker', None)


def _units(tmp_path, graph):
    """``graph``: [(id, deps, sleep seconds)] -> ProcessUnits."""
    os.makedirs(tmp_path, exist_ok=True)
    return [ProcessUnit(uid, str(tmp_path / f'{uid}.log'),
                        str(tmp_path / f'{uid}.json'), deps, data=sleep)
            for uid, deps, sleep in graph]


def _command(path, by_id):
    return lambda u: [sys.executable, path, u.id, u.result, str(u.data)] + [
        by_id[d].result for d in u.deps]


def _recording_start(path, units, log):
    """A start hook running the command factory's process and recording,
    per start, the unit, the results already written and how many of the
    processes started before still run."""
    by_id = {u.id: u for u in units}
    command, procs = _command(path, by_id), []

    def start(unit):
        log.append((unit.id,
                    sorted(u.id for u in units if osp.isfile(u.result)),
                    sum(p.poll() is None for p in procs)))
        with open(unit.log, 'w') as f:
            procs.append(subprocess.Popen(command(unit), stdout=f,
                                          stderr=subprocess.STDOUT))
        return procs[-1]

    return start, procs


GRAPH = [('a', [], 0.3), ('c', [], 0.3), ('b', ['a'], 0.0),
         ('d', ['b', 'c'], 0.0)]


def test_dependency_order_and_results_equal_sequential(tmp_path, worker):
    path, module = worker
    units = _units(tmp_path, GRAPH)
    log, progress = [], []
    start, _ = _recording_start(path, units, log)
    got = run_process_units(
        units, 2, start=start, poll_s=0.02,
        on_done=lambda u, r, p: progress.append((u.id, p.done, p.total,
                                                 p.inline)))
    # a and c side by side; b once a ended; d once b and c ended
    assert [e[0] for e in log] == ['a', 'c', 'b', 'd']
    assert log[0][1] == [] and log[1][1] == []
    assert log[1][2] == 1  # a still ran when c started: two jobs at a time
    assert all(e[2] <= 1 for e in log)
    assert 'a' in log[2][1]
    assert {'b', 'c'} <= set(log[3][1])
    assert [p[1:] for p in progress] == [(i, 4, False) for i in (1, 2, 3, 4)]
    # the sequential run in this process: the same results
    by_id = {u.id: u for u in units}
    seq_units = _units(tmp_path / 'seq', GRAPH)
    seq = {}

    def inline(unit):
        seq[unit.id] = module.compute(
            unit.id, [str(tmp_path / 'seq' / f'{d}.json') for d in unit.deps])
        with open(unit.result, 'w') as f:
            json.dump(seq[unit.id], f)
        return seq[unit.id]

    order = []
    again = run_process_units(
        seq_units, 1, _command(path, by_id), inline=inline,
        on_done=lambda u, r, p: order.append((u.id, p.inline)))
    assert again == got
    assert got['d']['deps'] == [got['b']['value'], got['c']['value']]
    assert order == [('a', True), ('c', True), ('b', True), ('d', True)]


def test_job_limit_and_command_factory(tmp_path, worker):
    path, _ = worker
    graph = [('x', [], 0.2), ('y', [], 0.2), ('z', [], 0.0)]
    for jobs in (1, 2):
        units = _units(tmp_path / str(jobs), graph)
        log = []
        start, _ = _recording_start(path, units, log)
        run_process_units(units, jobs, start=start, poll_s=0.02)
        alive = [e[2] for e in log]  # processes running at each start
        if jobs == 1:
            assert alive == [0, 0, 0]
        else:  # x and y side by side, z once a slot is free
            assert alive[:2] == [0, 1] and alive[2] <= 1
    # the default start: command factory, cwd, env, output in unit.log
    units = _units(tmp_path / 'cmd', [('p', [], 0.0), ('q', ['p'], 0.0)])
    res = run_process_units(units, 2, _command(path, {u.id: u
                                                      for u in units}),
                            cwd=str(tmp_path), env=dict(os.environ),
                            poll_s=0.02)
    assert set(res) == {'p', 'q'}
    assert res['q']['deps'] == [res['p']['value']]
    assert open(units[1].log).read() == 'worker q starts\n'


def test_a_failing_unit_stops_the_run_with_code_and_log_tail(
        tmp_path, worker):
    path, _ = worker
    slow, bad, after = _units(
        tmp_path, [('slow', [], 60.0), ('bad', [], 0.0),
                   ('after', ['bad'], 0.0)])
    procs = []

    def start(unit):
        if unit.id == 'bad':
            script = ('import sys\nfor i in range(200): print("line", i)\n'
                      'print("boom: the end"); sys.exit(3)')
            argv = [sys.executable, '-c', script]
        else:
            argv = [sys.executable, path, unit.id, unit.result, '60']
        with open(unit.log, 'w') as f:
            procs.append((unit.id, subprocess.Popen(
                argv, stdout=f, stderr=subprocess.STDOUT)))
        return procs[-1][1]

    t0 = time.time()
    with pytest.raises(RuntimeError) as err:
        run_process_units([slow, bad, after], 2, start=start, poll_s=0.02,
                          tail_chars=40)
    msg = str(err.value)
    assert msg.startswith(f'unit bad failed (exit 3); log {bad.log}:\n')
    assert msg.endswith('boom: the end\n')
    assert 'line 0' not in msg  # only the end of the log
    assert len(msg.split(':\n', 1)[1]) == 40
    assert [p[0] for p in procs] == ['slow', 'bad']  # 'after' never ran
    assert procs[0][1].poll() is not None  # the other worker was stopped
    assert time.time() - t0 < 30
    # stop_others=False leaves the other workers running
    procs.clear()
    with pytest.raises(RuntimeError, match=r'unit bad failed \(exit 3\)'):
        run_process_units([slow, bad], 2, start=start, poll_s=0.02,
                          stop_others=False)
    assert procs[0][1].poll() is None
    procs[0][1].kill()
    procs[0][1].wait()


def test_exit_zero_without_result_and_a_stale_result_fail(tmp_path):
    unit = ProcessUnit('u', str(tmp_path / 'u.log'),
                       str(tmp_path / 'u.json'), name='retraining u (seed 0)')
    with open(unit.result, 'w') as f:
        json.dump(dict(value='stale'), f)  # from an earlier run
    with pytest.raises(RuntimeError, match=r'^retraining u \(seed 0\) '
                       r'failed \(exit 0\); log .*u\.log:\nsaid nothing'):
        run_process_units(
            [unit], 2, lambda u: [sys.executable, '-c',
                                  'print("said nothing")'], poll_s=0.02)
    assert not osp.exists(unit.result)


def test_bad_unit_lists_fail_before_anything_starts(tmp_path):
    started = []

    def start(unit):
        started.append(unit.id)

    def run(graph, **kw):
        run_process_units(_units(tmp_path, graph), 2, start=start, **kw)

    with pytest.raises(RuntimeError,
                       match=r"unknown units \['nowhere'\]"):
        run([('a', [], 0), ('b', ['nowhere'], 0)])
    with pytest.raises(RuntimeError, match=r"in a circle: \['b', 'c'\]"):
        run([('a', [], 0), ('b', ['c'], 0), ('c', ['b'], 0)])
    with pytest.raises(ValueError, match=r"repeated: \['a'\]"):
        run([('a', [], 0), ('a', [], 0)])
    with pytest.raises(ValueError, match=r"running units \['z'\]"):
        run([('a', [], 0)], running={'z': None})
    with pytest.raises(ValueError, match='command factory or a start hook'):
        run_process_units(_units(tmp_path, [('a', [], 0)]), 2)
    assert started == []


def test_inline_errors_propagate_as_they_are(tmp_path):
    def inline(unit):
        raise KeyError(f'no such thing in {unit.id}')

    with pytest.raises(KeyError, match='no such thing in a'):
        run_process_units(_units(tmp_path, [('a', [], 0)]), 1,
                          inline=inline)


def test_pid_alive(tmp_path):
    f = tmp_path / 'x.pid'
    assert pid_alive(str(f)) is None  # no file
    f.write_text('not a pid')
    assert pid_alive(str(f)) is None
    f.write_text(str(os.getpid()))
    assert pid_alive(str(f)) == os.getpid()
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    f.write_text(str(proc.pid))  # ended (and reaped)
    assert pid_alive(str(f)) is None


def test_an_adopted_worker_holds_its_slot_until_it_ends(tmp_path, worker):
    path, _ = worker
    old, new = _units(tmp_path, [('old', [], 0), ('new', [], 0)])
    pid_file = str(tmp_path / 'old.pid')
    # a worker of an "earlier launch": pid file while it runs, then result
    script = (f'import json, os, time\n'
              f'open({pid_file!r} + ".tmp", "w").write(str(os.getpid()))\n'
              f'os.replace({pid_file!r} + ".tmp", {pid_file!r})\n'
              f'time.sleep(0.5)\n'
              f'json.dump(dict(value=7), open({old.result!r}, "w"))\n'
              f'os.remove({pid_file!r})\n')
    earlier = subprocess.Popen([sys.executable, '-c', script])
    while pid_alive(pid_file) is None:
        assert earlier.poll() is None
        time.sleep(0.01)
    log = []
    start, _ = _recording_start(path, [old, new], log)
    handle = AdoptedProcess(pid_file, old.result)
    assert handle.poll() is None
    res = run_process_units([old, new], 1, start=start, poll_s=0.02,
                            running={'old': handle})
    earlier.wait()
    assert res['old'] == dict(value=7)
    assert [e[0] for e in log] == ['new']  # the adopted one not started again
    assert log[0][1] == ['old']  # new waited for the slot
    assert handle.poll() == 0
    # an adopted worker that ended without its result failed
    os.remove(old.result)
    assert AdoptedProcess(pid_file, old.result).poll() == 1


def test_units_without_result_file_succeed_by_exit_code(tmp_path):
    """``result=None``: exit 0 is success (result None) in dependency
    order; a non-zero exit stops the run naming the unit and its log."""
    order = tmp_path / 'order.txt'

    def cmd(u):
        return [sys.executable, '-c',
                f'open({str(order)!r}, "a").write({u.id!r}); '
                f'raise SystemExit({u.data})']

    units = [ProcessUnit('a', str(tmp_path / 'a.log'), data=0),
             ProcessUnit('b', str(tmp_path / 'b.log'), deps=['a'], data=0)]
    assert run_process_units(units, 2, cmd, poll_s=0.02) == dict(a=None,
                                                                 b=None)
    assert order.read_text() == 'ab'
    bad = [ProcessUnit('c', str(tmp_path / 'c.log'), name='step c', data=4)]
    with pytest.raises(RuntimeError, match=r'step c failed \(exit 4\); log'):
        run_process_units(bad, 1, cmd, poll_s=0.02)


def test_launch_unit_worker_hands_the_spec_and_threads_to_the_script(
        tmp_path):
    """The unit's JSON goes to <work>/unit.json, the script runs with
    ``--unit <that file>`` in ``cwd`` with the thread count, output to the
    log."""
    script = tmp_path / 'worker.py'
    script.write_text(
        'import json, os, sys\n'
        'assert sys.argv[1] == "--unit"\n'
        'unit = json.load(open(sys.argv[2]))\n'
        'print("cwd", os.getcwd(), "threads", os.environ["OMP_NUM_THREADS"],'
        ' os.environ["MKL_NUM_THREADS"], "x", unit["x"])\n'
        'json.dump(dict(unit, spec=sys.argv[2]), '
        'open(unit["result"], "w"))\n')
    work = tmp_path / 'w' / 'u'
    unit = dict(x=[1, 2], result=str(tmp_path / 'out.json'))
    log = str(tmp_path / 'logs' / 'u.log')
    proc = launch_unit_worker(str(script), unit, str(work), log,
                              cwd=str(tmp_path), threads=3)
    assert proc.wait() == 0
    spec = str(work / 'unit.json')
    assert json.loads(open(spec).read()) == unit
    assert json.load(open(unit['result'])) == dict(unit, spec=spec)
    assert open(log).read().split() == [
        'cwd', str(tmp_path), 'threads', '3', '3', 'x', '[1,', '2]']


def _load_module(path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        f'_units_{osp.basename(path)[:-3]}', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_map_in_processes_equals_the_inline_map(tmp_path):
    from mmfusenas.benchmark.process_units import map_in_processes
    script = tmp_path / 'work_fn.py'
    script.write_text(
        'import os\n'
        'def scaled(x, k):\n'
        '    return dict(value=x * k, pid=os.getpid())\n'
        "if __name__ == '__main__':\n"
        "    raise SystemExit('the worker must not run the main block')\n")
    module = _load_module(str(script))
    jobs = [(1, 2), (3, 4), (5, 6)]
    inline = map_in_processes(module.scaled, jobs, 1, str(tmp_path / 'a'))
    spread = map_in_processes(module.scaled, jobs, 2, str(tmp_path / 'b'))
    assert [r['value'] for r in inline] == [2, 12, 30]
    assert [r['value'] for r in spread] == [2, 12, 30]  # in job order
    assert {r['pid'] for r in inline} == {os.getpid()}
    assert os.getpid() not in {r['pid'] for r in spread}
    assert sorted(os.listdir(tmp_path / 'b')) == ['unit0', 'unit1', 'unit2']
    assert not (tmp_path / 'a').exists()  # nothing written when inline


def test_map_in_processes_reports_a_failed_unit(tmp_path):
    from mmfusenas.benchmark.process_units import map_in_processes
    script = tmp_path / 'fail_fn.py'
    script.write_text('def boom(x):\n'
                      "    raise ValueError(f'bad input {x}')\n")
    module = _load_module(str(script))
    with pytest.raises(RuntimeError, match=r'boom #[01] failed \(exit 1\)'
                       r'[\s\S]*bad input'):
        map_in_processes(module.boom, [(7, ), (8, )], 2, str(tmp_path / 'u'))


def test_map_in_processes_passes_arguments_as_json_not_pickle(tmp_path):
    """Unit arguments travel as JSON (tuples and Namespace restored), so no
    worker unpickles a file of the work dir; other types are refused."""
    import argparse
    import json
    from mmfusenas.benchmark.process_units import map_in_processes
    script = tmp_path / 'types_fn.py'
    script.write_text('def kinds(t, ns):\n'
                      '    return [type(t).__name__, type(ns).__name__,\n'
                      '            list(t), ns.size, type(ns.shape).__name__]\n')
    module = _load_module(str(script))
    ns = argparse.Namespace(size=3, shape=(2, 4))
    out = map_in_processes(module.kinds, [((1, 2), ns), ((5, ), ns)], 2,
                           str(tmp_path / 'w'))
    assert out == [['tuple', 'Namespace', [1, 2], 3, 'tuple'],
                   ['tuple', 'Namespace', [5], 3, 'tuple']]
    spec = tmp_path / 'w' / 'unit0' / 'spec.json'
    assert json.loads(spec.read_text())['args'] == {
        '__tuple__': [{'__tuple__': [1, 2]},
                      {'__namespace__': {'size': 3,
                                         'shape': {'__tuple__': [2, 4]}}}]}
    assert not list((tmp_path / 'w').rglob('*.pkl'))
    with pytest.raises(TypeError, match='type set cannot be passed'):
        map_in_processes(module.kinds, [({1}, ns), ({2}, ns)], 2,
                         str(tmp_path / 'x'))
