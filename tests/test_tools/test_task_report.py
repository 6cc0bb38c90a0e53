"""tools/analysis_tools/task_report.py: the table, curve and goals of the
task-guidance campaign from hand-made unit records alone."""
import json

import pytest

from helpers import load_tool
from mmfusenas.evaluation.task_records import record_path, write_record


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis_tools/task_report.py')


def _write(root, folder, name, seed, m50, iters, labels='fusion',
           scale=(320, 240), data='d', **train):
    run = dict(
        options=dict(method=name, seed=seed, data_sha256=data),
        train=dict(iters=iters, cpu_seconds=360.0, device='cpu', **train),
        tests=dict(test=dict(mAP=m50 / 2, mAP50=m50, AP=dict(person=m50),
                             AP50=dict(person=m50))))
    protocol = dict(labels=labels, max_iters=iters, img_scale=list(scale),
                    config_sha256=f'{labels}{iters}')
    write_record(record_path(str(root / folder), name, seed), run, protocol,
                 'python x.py', 'abc')


def _campaign(root, joint):
    """800: ir / vi within the noise; 1600: out of it, with the twin and
    the joint rows."""
    for seed, d in enumerate((-0.01, 0.0, 0.01)):
        _write(root, 'b800', 'ir', seed, 0.05 + d, 800)
        _write(root, 'b800', 'vi', seed, 0.06 + d, 800)
        _write(root, 'b1600', 'ir', seed, 0.10 + d, 1600)
        _write(root, 'b1600', 'vi', seed, 0.20 + d, 1600)
        _write(root, 'b1600', 'twin_c8', seed, 0.21 + d, 1600)
        _write(root, 'b1600', 'tim_c8', seed, joint + d, 1600)
        _write(root, 'b1600', 'tim_c8_frozen', seed, 0.30 + d / 2, 1600)


def test_report_picks_the_budget_and_decides_the_goal(tool, tmp_path,
                                                      capsys):
    _campaign(tmp_path / 'records', joint=0.25)
    out = tmp_path / 'rec.json'
    assert tool.main([str(tmp_path / 'records'), '--results-json',
                      str(out)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last[len('RESULT '):])
    assert result['table'] == 'b1600'  # the smallest out of the noise
    assert [p['out_of_noise'] for p in result['curve']] == [False, True]
    goal = result['goal']
    assert goal['criterion'].startswith('task-guided mAP50 exceeds its '
                                        'two-step twin')
    assert goal['values']['difference'] == pytest.approx(0.04)
    assert goal['reached']  # 0.04 > the spread 0.0082
    best = result['goal_best_input']   # the control is no input
    assert best['values']['against'] == 'twin_c8' and best['reached']
    control = result['goal_control']
    assert control['criterion'].startswith('task-guided mAP50 exceeds its '
                                           'control')
    assert control['values']['against'] == 'tim_c8_frozen'
    assert control['values']['difference'] == pytest.approx(-0.05)
    assert not control['reached']
    record = json.loads(out.read_text())
    assert record['goal'] == goal and record['table'] == 'b1600'
    assert record['goal_control'] == control
    row = record['result']['b1600']['tim_c8']
    assert row['mAP50'] == pytest.approx(0.25) and row['seeds'] == 3
    assert row['cpu_h'] == 0.3 and row['person AP50'] == pytest.approx(0.25)
    assert row['s_iter'] is None and 'gpu_mb' not in row  # none recorded


def test_within_the_noise_the_table_is_the_largest_joint_budget(
        tool, tmp_path, capsys):
    """No budget out of the noise floor: the decisive table is the largest
    budget the joint row ran at, not a larger one holding only the curve's
    inputs (IR and VIS at 3200 iterations while it is measured)."""
    root = tmp_path / 'records'
    for seed, d in enumerate((-0.01, 0.0, 0.01)):
        for folder, iters in (('b1600', 1600), ('b3200', 3200)):
            _write(root, folder, 'ir', seed, 0.10 + d, iters)
            _write(root, folder, 'vi', seed, 0.11 + d, iters)
        _write(root, 'b1600', 'twin_c8', seed, 0.10 + d, 1600)
        _write(root, 'b1600', 'tim_c8', seed, 0.12 + d, 1600)
    assert tool.main([str(root)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1][7:])
    assert [p['folder'] for p in result['curve']] == ['b1600', 'b3200']
    assert not any(p['out_of_noise'] for p in result['curve'])
    assert result['table'] == 'b1600'
    assert result['goal']['values']['difference'] == pytest.approx(0.02)
    for seed, d in enumerate((-0.01, 0.0, 0.01)):  # out of the noise
        _write(root, 'b3200', 'vi', seed, 0.30 + d, 3200)
    assert tool.main([str(root)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1][7:])
    assert result['table'] == 'b3200'
    assert result['goal']['values'] == {'missing': ['tim_c8', 'twin_c8']}


def test_step_time_and_gpu_memory_columns(tool, tmp_path, capsys):
    """s_iter: the mean seconds per iteration of a row's seeds (None when
    a unit records none); gpu_mb, in every row once a unit records a peak
    GPU memory: the largest of its row."""
    root = tmp_path / 'records'
    for seed, (step, mb) in enumerate(((0.18, None), (0.2, 4149),
                                       (0.22, 4100))):
        _write(root, 'gpu', 'tim_c8', seed, 0.2, 2000, s_per_iter=step,
               max_memory_mb=mb)
        _write(root, 'gpu', 'ir', seed, 0.2, 2000,
               **({} if seed == 2 else dict(s_per_iter=0.1)))
    out = tmp_path / 'rec.json'
    assert tool.main([str(root), '--results-json', str(out)]) == 0
    capsys.readouterr()
    record = json.loads(out.read_text())
    joint, ir = (record['result']['gpu'][k] for k in ('tim_c8', 'ir'))
    assert joint['s_iter'] == pytest.approx(0.2) and joint['gpu_mb'] == 4149
    assert ir['s_iter'] is None and ir['gpu_mb'] is None
    assert 'gpu_mb' in record['metrics'] and 'gpu_mb:' in record['note']


def test_report_without_the_joint_rows_is_not_reached(tool, tmp_path,
                                                      capsys):
    _campaign(tmp_path / 'records', joint=0.212)  # ahead by < the spread
    assert tool.main([str(tmp_path / 'records')]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1][7:])
    assert not result['goal']['reached']
    assert tool.main([str(tmp_path / 'records'), '--control', 'none']) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1][7:])
    assert result['goal_control']['values'] == {'missing': ['none']}
    assert tool.main([str(tmp_path / 'records'), '--joint', 'none']) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1][7:])
    assert result['goal']['values'] == {'missing': ['none']}
    assert not result['goal']['reached']
    assert tool.main([str(tmp_path / 'empty_root')]) == 2


@pytest.mark.parametrize('amp_m50, reached', [(0.205, True), (0.25, False)])
def test_mixed_precision_row_against_float32(tool, tmp_path, capsys,
                                             amp_m50, reached):
    """amp: the mixed-precision joint row scores as the float32 one when
    its mAP50 mean lies within the larger seed spread, with the ratios of
    their step times and peak memories; no such row: named missing."""
    root = tmp_path / 'records'
    for seed, d in enumerate((-0.01, 0.0, 0.01)):
        _write(root, 'gpu', 'tim_c8', seed, 0.2 + d, 2000, s_per_iter=0.2,
               max_memory_mb=4000)
        _write(root, 'gpu', 'tim_c8_amp', seed, amp_m50 + d / 2, 2000,
               s_per_iter=0.1, max_memory_mb=2000)
        _write(root, 'gpu', 'ir', seed, 0.3 + d, 2000)
    assert tool.main([str(root)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1][7:])
    amp = result['amp']
    assert amp['reached'] is reached
    assert amp['values']['difference'] == pytest.approx(amp_m50 - 0.2)
    assert amp['values']['spread'] == pytest.approx((0.0002 / 3) ** 0.5)
    assert amp['values']['s_per_iter_ratio'] == 0.5
    assert amp['values']['memory_ratio'] == 0.5
    # the amp row is no input of the best-input goal
    assert result['goal_best_input']['values']['against'] == 'ir'
    assert tool.main([str(root), '--amp', 'tim_c8_bf16']) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1][7:])
    assert result['amp']['values'] == {'missing': ['tim_c8_bf16']}


def test_the_curve_holds_one_protocol_at_several_budgets(
        tool, tmp_path, capsys):
    """Folders of the fusion labels differing in more than their budget
    (and the config hash holding it) make no curve: refused, the folders
    and keys named. Another label set is no point of the curve."""
    root = tmp_path / 'records'
    _campaign(root, joint=0.25)
    for seed, d in enumerate((-0.01, 0.0, 0.01)):
        for name in ('ir', 'vi'):
            _write(root, 'infrared_1600', name, seed, 0.3 + d, 1600,
                   labels='infrared')
    assert tool.main([str(root)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1][7:])
    assert [p['folder'] for p in result['curve']] == ['b800', 'b1600']
    assert result['table'] == 'b1600'
    for seed in range(3):
        for name in ('ir', 'vi'):
            _write(root, 'c3200', name, seed, 0.3, 3200, scale=(640, 480))
    assert tool.main([str(root)]) == 2
    assert capsys.readouterr().err == (
        "error: budget curve: the records folders b1600 and c3200 differ "
        "in more than their budget (differing: ['img_scale']); a curve "
        "compares one protocol at several budgets, so give each protocol "
        "its own root\n")


def test_a_row_of_seeds_from_other_data_is_refused(tool, tmp_path, capsys):
    root = tmp_path / 'records'
    _campaign(root, joint=0.25)
    _write(root, 'b800', 'vi', 2, 0.07, 800, data='other')
    assert tool.main([str(root)]) == 2
    assert capsys.readouterr().err == (
        "error: row 'vi': seed 2 differs from seed 0 in "
        "['options.data_sha256']; the seeds of one row are made from the "
        "same inputs (all options but ['seed', 'init_sha256'], the same "
        "test data)\n")
