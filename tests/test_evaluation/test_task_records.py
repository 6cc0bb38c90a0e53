"""mmfusenas.evaluation.task_records: unit records read, refused when
damaged, reused only with equal options, tables and goals from records
alone on hand-made values."""
import json
import os.path as osp

import pytest

from mmfusenas.evaluation.task_records import (budget_curve, compare,
                                               load_records,
                                               matching_record, read_record,
                                               record_path, records_table,
                                               seed_files, write_record)

PROTOCOL = dict(config_sha256='c' * 64, max_iters=800, img_scale=[320, 240])


def _run(name, seed, m50, cpu=100.0, person=None):
    """A finished run (a ``result.json``) with mAP50 ``m50``."""
    person = m50 if person is None else person
    return dict(
        options=dict(method=name, seed=seed, config_sha256='c' * 64,
                     init_sha256=f'i{seed}', data_sha256='d'),
        train=dict(iters=800, seconds=cpu * 1.1, cpu_seconds=cpu,
                   device='CPU x (1 thread)', checkpoint='iter_800.pth'),
        tests=dict(test=dict(mAP=m50 / 2, mAP50=m50,
                             AP=dict(person=person / 2, car=None),
                             AP50=dict(person=person, car=None))))


def _scores(mAP='0.05', AP50='{"person": null}', train='{}'):
    """A record's text with these values (JSON)."""
    return ('{"options": {"seed": 0, "method": "ir"}, "protocol": {}, '
            '"train": %s, "tests": {"test": {"mAP": %s, "mAP50": 0.1, '
            '"AP": {"person": 0.1}, "AP50": %s}}, "command": "", '
            '"commit": ""}' % (train, mAP, AP50))


def _write(folder, name, seed, m50, **kw):
    path = record_path(str(folder), name, seed)
    assert write_record(path, _run(name, seed, m50, **kw), PROTOCOL,
                        'python x.py', 'abc')
    return path


def test_a_record_round_trips_and_is_not_rewritten(tmp_path):
    path = _write(tmp_path, 'ir', 0, 0.2)
    assert path == osp.join(str(tmp_path), 'ir', 'seed_0.json')
    record = read_record(path)
    assert record['protocol'] == PROTOCOL and record['commit'] == 'abc'
    assert record['tests'] == _run('ir', 0, 0.2)['tests']
    # the same unit again writes nothing; new scores do
    assert not write_record(path, _run('ir', 0, 0.2), PROTOCOL, 'other',
                            'def')
    assert write_record(path, _run('ir', 0, 0.3), PROTOCOL, 'x', 'def')
    assert read_record(path)['tests']['test']['mAP50'] == 0.3
    assert read_record(str(tmp_path / 'vi' / 'seed_0.json')) is None


def test_a_record_of_other_inputs_is_named_and_not_reused(tmp_path, capsys):
    path = _write(tmp_path, 'ir', 0, 0.2)
    options = _run('ir', 0, 0.2)['options']
    assert matching_record(path, options, 'ir seed 0')['options'] == options
    assert capsys.readouterr().out == ''
    changed = dict(options, config_sha256='e' * 64, data_sha256='d2')
    assert matching_record(path, changed, 'ir seed 0') is None
    out = capsys.readouterr().out
    assert out.startswith(f'ir seed 0: the record {path} was made from '
                          'other inputs (config_sha256: cccccccccccc… '
                          'there, eeeeeeeeeeee… now, data_sha256: d there, '
                          'd2 now); running it again')


@pytest.mark.parametrize('text, problem', [
    ('{"options": {', 'not valid JSON'),
    ('[1, 2]', 'not a JSON object'),
    ('{"options": {}, "protocol": {}, "train": {}, "tests": {}, '
     '"command": ""}', "missing ['commit']"),
    ('{"options": {"seed": 0}, "protocol": {}, "train": {}, "tests": '
     '{"test": {"mAP": 0.1}}, "command": "", "commit": ""}',
     "a test lacks one of ['mAP', 'mAP50', 'AP', 'AP50']"),
    ('{"options": {"seed": 3}, "protocol": {}, "train": {}, "tests": {}, '
     '"command": "", "commit": ""}', 'it records seed 3'),
    (_scores(mAP='null'), "tests.test: ['mAP'] must be finite numbers"),
    (_scores(mAP='"0.1"'), "tests.test: ['mAP'] must be finite numbers"),
    (_scores(mAP='NaN'), "tests.test: ['mAP'] must be finite numbers"),
    (_scores(AP50='{"person": "x"}'),
     "tests.test: ['AP50'] must be finite numbers"),
    (_scores(train='{"cpu_seconds": "9"}'),
     "train: ['cpu_seconds'] must be finite numbers or null"),
    (_scores(train='{"seconds": Infinity, "s_per_iter": NaN}'),
     "train: ['seconds', 's_per_iter'] must be finite numbers or null"),
    (_scores(train='{"final_losses": {"loss": NaN, "loss_cls": 0.1}}'),
     "train: ['final_losses'] must be finite numbers"),
    (_scores(train='{"final_losses": {"loss": null}}'),
     "train: ['final_losses'] must be finite numbers"),
    (_scores(AP50='{"person": 0.1}, "coco": {"coco/bbox_mAP": NaN}'),
     "tests.test: ['coco'] must be finite numbers"),
    (_scores().replace('"method": "ir"', '"method": "vi"'),
     "it records method 'vi', its folder is 'ir'"),
    (_scores().replace('"seed": 0', '"seed": "0"'),
     "options.seed must be an integer, not '0'"),
    (_scores().replace('"command": ""', '"command": NaN'),
     'a value is NaN or infinite, which strict JSON cannot hold'),
])
def test_a_damaged_record_is_named_and_refused(tmp_path, text, problem):
    path = tmp_path / 'ir' / 'seed_0.json'
    path.parent.mkdir()
    path.write_text(text)
    for read in (read_record, lambda p: matching_record(p, {}, 'ir 0')):
        with pytest.raises(ValueError) as err:
            read(str(path))
        assert str(err.value).startswith(str(path))
        assert problem in str(err.value)


def test_a_file_name_other_than_its_seed_is_refused(tmp_path):
    """seed_01.json holds seed 1 but is not seed_1.json: refused, named,
    not read as seed 1 beside (or instead of) seed_1.json."""
    path = _write(tmp_path, 'ir', 1, 0.2)
    other = tmp_path / 'ir' / 'seed_01.json'
    other.write_text(open(path).read())
    problem = (f'{other} is a damaged unit record (it records seed 1, its '
               'file name is not seed_1.json)')
    with pytest.raises(ValueError) as err:
        read_record(str(other))
    assert str(err.value).startswith(problem)
    with pytest.raises(ValueError) as err:
        load_records(str(tmp_path))
    assert str(err.value).startswith(problem)


def test_seed_files_lists_the_seed_records_by_seed(tmp_path):
    folder = tmp_path / 'ir'
    assert seed_files(str(folder)) == []  # no folder: no records
    folder.mkdir()
    for name in ('seed_10.json', 'seed_2.json', 'seed_x.json', 'notes.md',
                 'seed_3.json.tmp'):
        (folder / name).write_text('{}')
    assert seed_files(str(folder)) == [(2, str(folder / 'seed_2.json')),
                                       (10, str(folder / 'seed_10.json'))]


def test_a_record_in_another_rows_folder_is_refused(tmp_path):
    path = _write(tmp_path, 'ir', 0, 0.2)
    moved = tmp_path / 'vi' / 'seed_0.json'
    moved.parent.mkdir()
    moved.write_text(open(path).read())
    with pytest.raises(ValueError) as err:
        load_records(str(tmp_path))
    assert str(err.value).startswith(
        f"{moved} is a damaged unit record (it records method 'ir', its "
        "folder is 'vi')")
    # and none is written there
    with pytest.raises(ValueError) as err:
        write_record(str(tmp_path / 'max' / 'seed_0.json'),
                     _run('ir', 0, 0.2), PROTOCOL, 'x', 'abc')
    assert str(err.value) == (
        f"{tmp_path / 'max' / 'seed_0.json'}: refusing to write a unit "
        "record that would not read back (it records method 'ir', its "
        "folder is 'max'); nothing was written")
    assert not (tmp_path / 'max').exists()


@pytest.mark.parametrize('where, value, problem', [
    (('train', 'final_losses'), dict(loss=float('nan')),
     "train: ['final_losses'] must be finite numbers"),
    (('train', 'seconds'), float('inf'),
     "train: ['seconds'] must be finite numbers or null"),
    (('train', 'cpu_seconds'), float('nan'),
     "train: ['cpu_seconds'] must be finite numbers or null"),
    (('train', 's_per_iter'), float('-inf'),
     "train: ['s_per_iter'] must be finite numbers or null"),
    (('tests', 'test', 'coco'), {'coco/bbox_mAP': float('nan')},
     "tests.test: ['coco'] must be finite numbers"),
    (('tests', 'test', 'mAP50'), float('nan'),
     "tests.test: ['mAP50'] must be finite numbers"),
    # a NaN no check looks at: strict JSON refuses it
    (('tests', 'test', 'rescored'), dict(before=float('nan')),
     'a value is NaN or infinite, which strict JSON cannot hold'),
    (('options', 'seed'), 1, 'it records seed 1, its file name is not '
     'seed_1.json'),
])
def test_a_record_that_would_not_read_back_is_not_written(
        tmp_path, where, value, problem):
    path = _write(tmp_path, 'ir', 0, 0.2)
    before = open(path).read()
    run = _run('ir', 0, 0.3)
    node = run
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(ValueError) as err:
        write_record(path, run, PROTOCOL, 'x', 'abc')
    assert str(err.value) == (
        f'{path}: refusing to write a unit record that would not read back '
        f'({problem}); nothing was written')
    assert open(path).read() == before  # the record there is kept


def test_a_written_record_is_strict_json_and_reads_back(tmp_path):
    run = _run('ir', 0, 0.2)
    run['train'].update(final_losses=dict(loss=1.25, loss_cls=0.5),
                        s_per_iter=None, max_memory_mb=4096)
    run['tests']['test']['coco'] = {'coco/bbox_mAP': 0.05,
                                    'coco/bbox_mAP_l': -1.0}
    path = record_path(str(tmp_path), 'ir', 0)
    assert write_record(path, run, PROTOCOL, 'python x.py', 'abc')
    text = open(path).read()
    json.loads(text, parse_constant=pytest.fail)  # no NaN / Infinity
    record = read_record(path)
    assert record['train'] == run['train']
    assert record['tests'] == run['tests']


def _write_options(folder, name, seed, m50=0.2, data=None, **options):
    """A record of ``name`` and ``seed`` whose options are updated with
    ``options`` (None: the key removed) and whose test was on ``data``."""
    run = _run(name, seed, m50)
    for key, value in options.items():
        if value is None:
            del run['options'][key]
        else:
            run['options'][key] = value
    if data is not None:
        run['tests']['test']['data_sha256'] = data
    write_record(record_path(str(folder), name, seed), run, PROTOCOL, 'x',
                 'abc')


def test_a_row_of_seeds_from_other_inputs_is_refused(tmp_path):
    """The seeds of a row may differ in their seed and initial weights; in
    any other option (the config hash too), one missing on one side too, or
    in their test data, averaging them is refused, naming the row, seeds
    and keys."""
    for seed in range(3):
        _write_options(tmp_path, 'ir', seed, data='t',
                       init_sha256=f'{seed}' * 64)
    table = records_table(load_records(str(tmp_path)))
    assert table['ir']['seeds'] == [0, 1, 2]
    _write_options(tmp_path, 'ir', 1, data='t', data_sha256='d2',
                   config_sha256='e' * 64, fusion_init_sha256='f')
    _write_options(tmp_path, 'ir', 2, data='t2', init_sha256=None)
    with pytest.raises(ValueError) as err:
        records_table(load_records(str(tmp_path)))
    assert str(err.value) == (
        "row 'ir': seed 1 differs from seed 0 in ['options.config_sha256', "
        "'options.data_sha256', 'options.fusion_init_sha256']; seed 2 "
        "differs from seed 0 in ['tests.test.data_sha256']; the seeds of one "
        "row are made from the same inputs (all options but ['seed', "
        "'init_sha256'], the same test data)")
    # a test data hash recorded by one seed only is a difference too
    _write_options(tmp_path, 'ir', 1, data='t')
    _write_options(tmp_path, 'ir', 2)
    with pytest.raises(ValueError, match=r"^row 'ir': seed 2 differs from "
                       r"seed 0 in \['tests\.test\.data_sha256'\];"):
        records_table(load_records(str(tmp_path)))
    # the rows of another test set are not held to this set's data
    assert records_table(load_records(str(tmp_path)), 'other') == {}


def test_table_and_cpu_hours_from_records_alone(tmp_path):
    for seed, m50 in enumerate((0.2, 0.3, 0.4)):
        _write(tmp_path, 'ir', seed, m50, cpu=1800.0)
    _write(tmp_path, 'vi', 0, 0.1, cpu=900.0)
    (tmp_path / 'notes.txt').write_text('not a record')
    records = load_records(str(tmp_path))
    assert sorted(records) == ['ir', 'vi'] and sorted(records['ir']) == [
        0, 1, 2]
    table = records_table(records)
    ir = table['ir']
    assert ir['seeds'] == [0, 1, 2]
    assert ir['mAP50'] == pytest.approx(0.3)
    assert ir['mAP50_std'] == pytest.approx((0.02 / 3) ** 0.5)
    assert ir['AP50'] == {'person': pytest.approx(0.3), 'car': None}
    assert ir['cpu_hours'] == 1.5 and ir['iters'] == [800]
    assert ir['s_per_iter'] is None and ir['max_memory_mb'] is None
    assert ir['devices'] == ['CPU x (1 thread)']
    assert ir['per_seed']['1'] == dict(
        mAP=0.15, mAP50=0.3, AP=dict(person=0.15, car=None),
        AP50=dict(person=0.3, car=None))
    assert table['vi']['mAP50_std'] == 0.0 and table['vi']['cpu_hours'] == \
        0.25
    assert records_table(records, 'other') == {}
    # seeds scored on other classes cannot be averaged class by class
    run = _run('vi', 1, 0.2)
    run['tests']['test']['AP50'] = dict(person=0.2)
    write_record(record_path(str(tmp_path), 'vi', 1), run, PROTOCOL, 'x',
                 'abc')
    with pytest.raises(ValueError, match=r"row 'vi': seed 1 scores the "
                       r"classes \['person'\], seed 0 \['person', 'car'\]"):
        records_table(load_records(str(tmp_path)))


def test_records_of_two_protocols_are_refused(tmp_path):
    _write(tmp_path, 'ir', 0, 0.2)
    other = dict(PROTOCOL, max_iters=1600)
    path = record_path(str(tmp_path), 'vi', 0)
    write_record(path, _run('vi', 0, 0.1), other, 'x', 'abc')
    with pytest.raises(ValueError, match=r"another protocol .*'max_iters'"):
        load_records(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='records folder'):
        load_records(str(tmp_path / 'none'))


def _row(m50, sd, seeds):
    return dict(mAP50=m50, mAP50_std=sd, seeds=list(range(seeds)))


def test_goal_by_hand():
    """Reached only when ahead by more than the larger seed spread over
    enough seeds."""
    table = dict(joint=_row(0.35, 0.03, 3), twin=_row(0.30, 0.02, 3),
                 ir=_row(0.34, 0.001, 3))
    goal = compare(table, 'joint', 'twin', min_seeds=3)
    v = goal['values']
    assert v['difference'] == pytest.approx(0.05)
    assert v['spread'] == 0.03 and v['seeds'] == 3 and goal['reached']
    assert goal['criterion'] == (
        'joint mAP50 exceeds twin\'s by more than the larger seed spread '
        '(population std), over >= 3 seeds')
    # ahead of ir by 0.01, less than the joint row's own spread
    assert not compare(table, 'joint', 'ir')['reached']
    # behind
    assert not compare(table, 'twin', 'joint')['reached']
    # too few seeds
    table['twin'] = _row(0.30, 0.0, 2)
    assert not compare(table, 'joint', 'twin', min_seeds=3)['reached']
    assert compare(table, 'joint', 'twin', min_seeds=2)['reached']
    json.dumps(goal)  # recordable
    assert v['paired'] == dict(seeds=0, ahead=0, mean=None)  # no per_seed


def test_paired_differences_use_the_seeds_both_rows_have():
    """Seed by seed (the same initial detector and data order): seeds 0-2
    are shared, seed 3 only in one row."""
    def row(scores):
        return dict(mAP50=sum(scores.values()) / len(scores), mAP50_std=0.1,
                    seeds=sorted(scores),
                    per_seed={s: dict(mAP50=m) for s, m in scores.items()})
    table = dict(joint=row({0: 0.50, 1: 0.40, 2: 0.30, 3: 0.9}),
                 control=row({0: 0.45, 1: 0.42, 2: 0.20}))
    paired = compare(table, 'joint', 'control')['values']['paired']
    assert paired['seeds'] == 3 and paired['ahead'] == 2
    assert paired['mean'] == pytest.approx((0.05 - 0.02 + 0.10) / 3)
    # the reading the other way round
    back = compare(table, 'control', 'joint')['values']['paired']
    assert back['ahead'] == 1 and back['mean'] == pytest.approx(
        -paired['mean'])


def _table(ir, vi, sd, seeds=3):
    return dict(ir=dict(_row(ir, sd, seeds)), vi=dict(_row(vi, sd, seeds)))


def test_budget_curve_by_hand():
    """Out of the noise floor when |vi - ir| > 2 x the larger spread over
    >= 2 seeds, or when the better input reaches 0.20."""
    tables = {
        'b1600': (dict(max_iters=1600, img_scale=[320, 240]),
                  _table(0.10, 0.15, 0.02)),  # 0.05 > 0.04
        'b800': (dict(max_iters=800, img_scale=[320, 240]),
                 _table(0.02, 0.05, 0.02)),  # 0.03 < 0.04
        'b3200': (dict(max_iters=3200, img_scale=[320, 240]),
                  _table(0.21, 0.20, 0.05)),
        'b6400': (dict(max_iters=6400, img_scale=[320, 240]),
                  _table(0.10, 0.30, 0.0, seeds=1)),
        'no_vi': (dict(max_iters=100), dict(ir=_row(0.1, 0.0, 3))),
    }
    curve = budget_curve(tables)
    assert [p['folder'] for p in curve] == ['b800', 'b1600', 'b3200',
                                            'b6400']
    assert [p['out_of_noise'] for p in curve] == [False, True, True, False]
    first = curve[0]
    assert first['ir_mAP50'] == 0.02 and first['vi_sd'] == 0.02
    assert first['difference'] == pytest.approx(0.03)
    assert first['seeds'] == 3 and first['img_scale'] == [320, 240]


def test_a_budget_curve_of_other_protocols_is_refused():
    """The folders of a curve may differ in their budget (and the config
    hash, which holds the schedule) only."""
    def protocol(iters, **kw):
        return dict(dict(PROTOCOL, max_iters=iters, labels='fusion',
                         config_sha256=f'{iters}'), **kw)

    tables = {'b800': (protocol(800), _table(0.02, 0.05, 0.02)),
              'b1600': (protocol(1600), _table(0.10, 0.15, 0.02))}
    assert len(budget_curve(tables)) == 2
    # a folder without both inputs is no point of the curve
    tables['big'] = (protocol(3200, img_scale=[640, 480]),
                     dict(ir=_row(0.1, 0.0, 3)))
    assert len(budget_curve(tables)) == 2
    tables['big'] = (protocol(3200, img_scale=[640, 480], workers=2),
                     _table(0.2, 0.3, 0.01))
    with pytest.raises(ValueError) as err:
        budget_curve(tables)
    assert str(err.value) == (
        "budget curve: the records folders b1600 and big differ in more "
        "than their budget (differing: ['img_scale', 'workers']); a curve "
        "compares one protocol at several budgets, so give each protocol "
        "its own root")


def test_a_unit_without_a_device_is_named_not_recorded(tmp_path):
    _write(tmp_path, 'ir', 0, 0.2)
    early = _run('ir', 1, 0.3)
    del early['train']['device']  # records made before the field existed
    assert write_record(record_path(str(tmp_path), 'ir', 1), early,
                        PROTOCOL, 'python x.py', 'abc')
    table = records_table(load_records(str(tmp_path)))
    assert table['ir']['devices'] == ['CPU x (1 thread)', 'not recorded']
