"""tools/analysis_tools/task_units.py: protocol units side by side until a
deadline, recorded units skipped, run against a stand-in protocol script
that sleeps and writes the unit's record."""
import json
import os
import os.path as osp
import textwrap

import pytest

from helpers import load_tool

#: the stand-in: sleeps --sleep seconds, logs when it ran, writes the
#: record of --seeds S under --records/ROW (exit 3 with --fail; with
#: --damaged, a record of another seed)
FAKE = textwrap.dedent('''
    import argparse, json, os, sys, time
    p = argparse.ArgumentParser()
    p.add_argument('--records'); p.add_argument('--work-dir')
    p.add_argument('--seeds'); p.add_argument('--row')
    p.add_argument('--sleep', type=float, default=0)
    p.add_argument('--fail', action='store_true'); p.add_argument('--data')
    p.add_argument('--damaged', action='store_true')
    p.add_argument('--methods', nargs='+'); p.add_argument('--joint')
    a = p.parse_args()
    began = time.time()
    with open(a.work_dir + '.pid', 'w') as f:
        f.write(str(os.getpid()))
    time.sleep(a.sleep)
    if a.fail:
        sys.exit(3)
    os.makedirs(os.path.join(a.records, a.row), exist_ok=True)
    with open(os.path.join(a.records, a.row, f'seed_{a.seeds}.json'),
              'w') as f:
        json.dump(dict(
            options=dict(method=a.row, seed=int(a.seeds) + a.damaged),
            protocol={}, train={}, tests={}, command='', commit='',
            began=began, ended=time.time(), data=a.data,
            work_dir=a.work_dir), f)
''')


def _valid(path, row, seed):
    """Write a unit record that reads at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(
        options=dict(method=row, seed=seed), protocol={}, train={},
        tests={}, command='', commit='')))


@pytest.fixture
def units(tmp_path, monkeypatch):
    tool = load_tool('tools/analysis_tools/task_units.py')
    fake = tmp_path / 'fake_protocol.py'
    fake.write_text(FAKE)
    monkeypatch.setattr(tool, 'TOOL', str(fake))
    return tool


def _run(tool, tmp_path, queue, *options):
    path = tmp_path / 'queue.txt'
    path.write_text(textwrap.dedent(queue))
    records = str(tmp_path / 'records')
    argv = [str(path), '--records', records, '--work-root',
            str(tmp_path / 'work'), *options]
    return tool.run(tool.parse_args(argv)), records


def _record(records, row, seed):
    with open(osp.join(records, row, f'seed_{seed}.json')) as f:
        return json.load(f)


def test_units_run_side_by_side_and_recorded_ones_are_skipped(units,
                                                              tmp_path):
    _valid(tmp_path / 'records' / 'ir' / 'seed_0.json', 'ir', 0)
    results, out = _run(units, tmp_path, '''
        # row seed protocol options
        ir 0 --row ir
        ir 1 --row ir --methods ir --sleep 1.0
        vi 1 --row vi --methods vi --sleep 1.0   # beside ir 1
        max 0 --row max --fail
    ''', '--jobs', '2', '--', '--data', 'D')
    status = {r['unit']: r['status'] for r in results}
    assert status == {'ir_0': 'recorded earlier', 'ir_1': 'recorded',
                      'vi_1': 'recorded', 'max_0': 'failed (rc 3)'}
    a, b = _record(out, 'ir', 1), _record(out, 'vi', 1)
    assert a['began'] < b['ended'] and b['began'] < a['ended']  # overlap
    assert a['data'] == 'D'  # the options after -- reach every unit
    assert a['work_dir'] == str(tmp_path / 'work' / 'ir_1')
    assert osp.isfile(tmp_path / 'work' / 'max_0.log')
    assert units.main([str(tmp_path / 'queue.txt'), '--records', out,
                       '--work-root', str(tmp_path / 'work')]) == 1


def test_recheck_runs_recorded_units_through_the_protocol(units, tmp_path):
    """With ``--recheck`` a recorded unit is started like the others (the
    protocol decides whether its record still holds); without, skipped."""
    _valid(tmp_path / 'records' / 'ir' / 'seed_0.json', 'ir', 0)
    results, out = _run(units, tmp_path, 'ir 0 --row ir\n', '--recheck')
    assert [r['status'] for r in results] == ['recorded']
    assert _record(out, 'ir', 0)['work_dir'] == str(tmp_path / 'work' /
                                                    'ir_0')
    results, _ = _run(units, tmp_path, 'ir 0 --row ir\n')
    assert [r['status'] for r in results] == ['recorded earlier']


def test_units_training_one_row_and_seed_run_one_after_the_other(units,
                                                                 tmp_path):
    """``tim 0`` trains its input ``ir`` seed 0 too, so it waits for the
    unit ``ir 0`` (and then takes ir from its record); ``vi 0`` runs beside
    them."""
    results, out = _run(units, tmp_path, '''
        ir 0 --row ir --methods ir --sleep 1.0
        tim 0 --row tim --methods ir --joint tim=a.py --sleep 0.2
        vi 0 --row vi --methods vi --sleep 1.0
    ''', '--jobs', '2')
    assert {r['status'] for r in results} == {'recorded'}
    ir, tim, vi = (_record(out, r, 0) for r in ('ir', 'tim', 'vi'))
    assert tim['began'] >= ir['ended']
    assert vi['began'] < ir['ended'] and ir['began'] < vi['ended']
    # without --methods a unit trains every default input: it runs alone
    # among the units of its seed
    (tmp_path / 'all').mkdir()
    results, out = _run(units, tmp_path / 'all', '''
        vi 1 --row vi --methods vi --sleep 1.0
        all 1 --row all --sleep 0.2
        ir 2 --row ir --methods ir --sleep 1.0
    ''', '--jobs', '2')
    vi, every, ir = (_record(out, r, s) for r, s in (
        ('vi', 1), ('all', 1), ('ir', 2)))
    assert every['began'] >= vi['ended']
    assert ir['began'] < vi['ended'] and vi['began'] < ir['ended']


def test_a_record_that_does_not_read_fails_its_unit(units, tmp_path,
                                                    capsys):
    """A unit whose record file is there but does not read (the checks of
    the report) is failed, the file and the reason named: neither counted
    as recorded nor trained over. A run leaving such a record fails too."""
    records = tmp_path / 'records'
    (records / 'ir').mkdir(parents=True)
    (records / 'ir' / 'seed_0.json').write_text('{}')
    _valid(records / 'vi' / 'seed_1.json', 'max', 1)  # another row's
    results, out = _run(units, tmp_path, '''
        ir 0 --row ir
        vi 1 --row vi
        vi 2 --row vi --damaged
        max 0 --row max
    ''')
    status = {r['unit']: r['status'] for r in results}
    ir, vi = records / 'ir' / 'seed_0.json', records / 'vi' / 'seed_1.json'
    vi2 = records / 'vi' / 'seed_2.json'
    assert status == {
        'ir_0': f"failed ({ir} is a damaged unit record (missing "
        "['options', 'protocol', 'train', 'tests', 'command', 'commit']); "
        "restore it from git or remove it to run the unit again)",
        'vi_1': f"failed ({vi} is a damaged unit record (it records "
        "method 'max', its folder is 'vi'); restore it from git or remove "
        "it to run the unit again)",
        'vi_2': f'failed ({vi2} is a damaged unit record (it records seed '
        '3, its file name is not seed_3.json); restore it from git or '
        'remove it to run the unit again)',
        'max_0': 'recorded'}
    assert f'ir_0: {status["ir_0"]}' in capsys.readouterr().out
    # not run: neither trained over nor rewritten
    assert not osp.exists(tmp_path / 'work' / 'ir_0.log')
    assert not osp.exists(tmp_path / 'work' / 'vi_1.log')
    assert ir.read_text() == '{}'
    assert units.main([str(tmp_path / 'queue.txt'), '--records', out,
                       '--work-root', str(tmp_path / 'work')]) == 1


def test_the_deadline_stops_a_unit_and_starts_no_more(units, tmp_path):
    results, out = _run(units, tmp_path, '''
        ir 0 --row ir --sleep 30
        vi 0 --row vi
        max 0 --row max
    ''', '--jobs', '1', '--deadline', '1.5', '--unit-seconds', '1')
    assert [(r['unit'], r['status']) for r in results] == [
        ('ir_0', 'stopped at the deadline'), ('vi_0', 'not started'),
        ('max_0', 'not started')]
    assert results[0]['seconds'] < 15  # stopped, not waited for
    assert not osp.exists(osp.join(out, 'ir'))  # no record


def test_an_interrupted_queue_leaves_no_unit_running(
        units, tmp_path, monkeypatch):
    real_sleep = units.time.sleep

    def interrupted(_):
        real_sleep(2.0)  # the unit has started
        raise KeyboardInterrupt

    monkeypatch.setattr(units.time, 'sleep', interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(units, tmp_path, 'ir 0 --row ir --sleep 60')
    pid = int((tmp_path / 'work' / 'ir_0.pid').read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped


@pytest.mark.parametrize('line, error', [
    ('ir --row ir', r'queue\.txt:1: expected ROW SEED ARGS\.\.\., got '),
    ('ir 0\nir 0 --x', r'a unit is queued twice: \[\'ir_0\'\]'),
    ('ir 0\nvi 1 --tag "a b', r'queue\.txt:2: No closing quotation in '
     '\'vi 1 --tag "a b\''),
    ('ir 0 --methods vi', r"queue\.txt:1: row 'ir' is none of the rows its "
     r"options record \(\['vi'\]\)"),
    ('tim 0 --methods ir --joint tim=a.py\ntwin 0 --methods=ir --joint '
     'tim=a.py', r"queue\.txt:2: row 'twin' is none of the rows its options "
     r"record \(\['ir', 'tim'\]\)"),
])
def test_a_bad_queue_is_named(units, tmp_path, line, error):
    with pytest.raises(ValueError, match=error):
        _run(units, tmp_path, line)
