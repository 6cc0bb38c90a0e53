"""benchmarks/bench_fusion_real.py: the real-pair fusion table."""
import json
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.apis import init_model
from mmfusenas.benchmark import fusion_real
from helpers import load_tool
from mmfusenas.benchmark.results_record import git_commit

TOY = 'configs/baselines/fusion_toy.py'


@pytest.fixture(scope='module')
def bench():
    return load_tool('benchmarks/bench_fusion_real.py')


@pytest.fixture(scope='module')
def toy_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    model = init_model(TOY)
    path = tmp_path_factory.mktemp('ckpt') / 'toy.pth'
    torch.save({'state_dict': model.state_dict()}, str(path))
    return str(path)


#: the centre crop (h, w) of the real pairs in ``fusion_crops``
CROP = (128, 160)


@pytest.fixture(scope='module')
def fusion_crops(tmp_path_factory, shared_data):
    """``--data-root`` with the first 2 pairs (the pairs ``--max-pairs 2``
    takes) of every data set of ``fusion_real.DATASETS``, each file the
    centre ``CROP`` of the shared one under its own name (JPEGs at quality
    100). The tests using it assert the table's structure, parameter
    counts, ranks, finite metrics and the equality with ``fuse.py`` +
    ``eval_fusion.py`` on the same files: none depends on the image size,
    while SeAFusion and the metrics on the whole 768 x 576 TNO pairs took
    most of this file's time."""
    root = tmp_path_factory.mktemp('fusion_crops')
    src_root = osp.join(shared_data, 'fusion')
    for folder, layout in fusion_real.DATASETS.values():
        for sub in layout.values():
            src = osp.join(src_root, folder, sub)
            dst = root / folder / sub
            dst.mkdir(parents=True)
            for name in sorted(os.listdir(src))[:2]:
                img = cv2.imread(osp.join(src, name), cv2.IMREAD_UNCHANGED)
                top = (img.shape[0] - CROP[0]) // 2
                left = (img.shape[1] - CROP[1]) // 2
                assert top >= 0 and left >= 0, (folder, sub, name)
                cv2.imwrite(str(dst / name),
                            img[top:top + CROP[0], left:left + CROP[1]],
                            [cv2.IMWRITE_JPEG_QUALITY, 100])
    return str(root)


def _pairs(root, sizes=((48, 56), (48, 56))):
    """root/{ir,vi}/p<i>.png smooth random pairs of the given (h, w)."""
    rng = np.random.default_rng(1)
    for i, (h, w) in enumerate(sizes):
        for mod in ('ir', 'vi'):
            img = cv2.resize(rng.uniform(0, 255, (6, 6)), (w, h)).astype(
                np.uint8)
            path = root / mod / f'p{i}.png'
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), img)
    return root


def test_ranks_hand_case(bench):
    table = {
        'a': {'EN': 2.0, 'Nabf': 0.3},
        'b': {'EN': 3.0, 'Nabf': 0.1},
        'c': {'EN': 2.0, 'Nabf': 0.2},
        'd': {'absent': 'config x.py not found'},
    }
    bench.add_ranks(table, ['EN', 'Nabf'])
    assert table['a']['rank'] == {'EN': 2, 'Nabf': 3}  # tie shares rank 2
    assert table['b']['rank'] == {'EN': 1, 'Nabf': 1}  # Nabf: lower wins
    assert table['c']['rank'] == {'EN': 2, 'Nabf': 2}
    assert table['a']['mean_rank'] == 2.5 and table['b']['mean_rank'] == 1
    assert table['d'] == {'absent': 'config x.py not found'}


def test_pairs_dir_outputs_and_absent_methods(bench, toy_ckpt, tmp_path,
                                              capsys):
    pairs = _pairs(tmp_path / 'mine')
    out, rec = tmp_path / 'o' / 'table.json', tmp_path / 'o' / 'rec.json'
    argv = [
        '--pairs', str(pairs), '--methods', 'toy', 'SeAFusion',
        '--checkpoint', f'toy={TOY}:{toy_ckpt}', '--cost-size', '32', '32',
        '--repeats', '1', '--out', str(out), '--results-json', str(rec),
        '--weights-root', str(tmp_path / 'no_weights')
    ]
    assert bench.main(argv) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('RESULT ')
    result = json.loads(last[len('RESULT '):])
    assert list(result) == ['mine']
    row = result['mine']['toy']
    assert row['pairs'] == 2
    assert set(bench.resolve_metrics('cddfuse', None)) <= set(row)
    assert len(row['rank']) == 11 and row['mean_rank'] == 1
    assert row['params'] == 37409 and row['flops'] > 0
    # absent, with the reason, never dropped: config (this branch) or weight
    reason = result['mine']['SeAFusion']['absent']
    assert 'seafusion_ivif.py not found' in reason or \
        'seafusion.pth not found' in reason
    with open(rec) as f:
        record = json.load(f)
    assert record['result'] == result
    assert record['command'].startswith(
        'python benchmarks/bench_fusion_real.py --pairs ')
    assert set(record['machine']) >= {'cpu_model', 'cores', 'threads'}
    # 'unknown' outside git
    assert record['commit'] == git_commit(bench.ROOT)
    grid = cv2.imread(str(tmp_path / 'o' / 'table_grid.png'))
    assert grid.shape == (28 + 192, 4 * 256, 3)  # IR, VIS, toy, SeAFusion
    with open(out) as f:
        assert json.load(f)['result'] == result


def test_same_numbers_as_fuse_and_eval_fusion(bench, toy_ckpt, tmp_path,
                                              capsys, fusion_crops):
    """Two TNO pairs (crops): the table's row equals tools/fuse.py +
    eval_fusion.py on the written PNGs."""
    src = osp.join(fusion_crops, 'TNO')
    pairs = tmp_path / 'tno2'
    for mod in ('ir', 'vi'):
        (pairs / mod).mkdir(parents=True)
        for name in ('01.png', '02.png'):
            (pairs / mod / name).write_bytes(
                open(osp.join(src, mod, name), 'rb').read())
    result = bench.run(bench.parse_args([
        '--pairs', str(pairs), '--methods', 'toy', '--checkpoint',
        f'toy={TOY}:{toy_ckpt}', '--cost-size', '32', '32', '--repeats', '1'
    ]))
    load_tool('tools/fuse.py').main([
        TOY, toy_ckpt, '--ir', str(pairs / 'ir'), '--vi',
        str(pairs / 'vi'), '--out', str(tmp_path / 'fused')
    ])
    ref = load_tool('tools/analysis_tools/eval_fusion.py').evaluate(
        str(pairs / 'ir'), str(pairs / 'vi'), str(tmp_path / 'fused'),
        'cddfuse')['mean']
    row = result['tno2']['toy']
    assert len(ref) == 11
    for metric, value in ref.items():
        assert row[metric] == pytest.approx(value, rel=1e-9, abs=1e-12), \
            metric


def test_two_pairs_per_set(bench, toy_ckpt, capsys, fusion_crops):
    result = bench.run(bench.parse_args([
        '--data-root', fusion_crops, '--max-pairs', '2',
        '--methods', 'toy', '--checkpoint', f'toy={TOY}:{toy_ckpt}',
        '--cost-size', '32', '32', '--repeats', '1'
    ]))
    assert list(result) == ['TNO', 'RoadScene', 'MRI_CT', 'MRI_PET',
                            'MRI_SPECT']
    for dataset, table in result.items():
        assert table['toy']['pairs'] == 2, dataset
        assert np.isfinite([table['toy'][m] for m in table['toy']['rank']
                            ]).all()


@pytest.mark.parametrize('case',
                         ['sizes', 'corrupt', 'truncated', 'checkpoint'])
def test_bad_input_names_the_file_and_writes_nothing(bench, toy_ckpt,
                                                     tmp_path, capsys, case):
    pairs = _pairs(tmp_path / 'bad')
    ckpt = toy_ckpt
    if case == 'sizes':
        cv2.imwrite(str(pairs / 'vi' / 'p1.png'),
                    np.zeros((48, 60), np.uint8))
    if case == 'corrupt':
        (pairs / 'vi' / 'p1.png').write_bytes(b'\x89PNG\r\n\x1a\n broken')
    if case == 'truncated':  # a valid header, undecodable data
        data = (pairs / 'vi' / 'p1.png').read_bytes()
        (pairs / 'vi' / 'p1.png').write_bytes(data[:len(data) // 2])
    if case == 'checkpoint':
        ckpt = str(tmp_path / 'missing.pth')
    out = tmp_path / 'o' / 'table.json'
    code = bench.main([
        '--pairs', str(pairs), '--methods', 'toy', '--checkpoint',
        f'toy={TOY}:{ckpt}', '--out', str(out), '--results-json',
        str(tmp_path / 'o' / 'rec.json')
    ])
    err = capsys.readouterr().err
    assert code == 2
    expected = {
        'sizes': osp.join('vi', 'p1.png'),
        'corrupt': osp.join('vi', 'p1.png'),
        'truncated':
        'cannot decode image ' + repr(str(pairs / 'vi' / 'p1.png')),
        'checkpoint': 'checkpoint file not found: ' + ckpt,
    }[case]
    assert expected in err
    assert not out.exists() and not (tmp_path / 'o' / 'rec.json').exists()
    assert not (tmp_path / 'o' / 'table_grid.png').exists()


def test_builtin_baselines_on_two_tno_pairs(bench, capsys, shared_data,
                                            fusion_crops):
    """The classical rules and the official baselines run (converted in
    process) and are ranked together (on crops of two TNO pairs)."""
    for path in ('configs/baselines/classical_max_ivif.py',
                 'configs/baselines/seafusion_ivif.py'):
        if not osp.isfile(osp.join(bench.ROOT, path)):
            pytest.skip(f'{path} is not in this checkout')
    weights = osp.join(osp.dirname(shared_data), 'checkpoints',
                       'fusion_baselines')
    result = bench.run(bench.parse_args([
        '--data-root', fusion_crops, '--datasets', 'TNO',
        '--max-pairs', '2', '--methods', 'max', 'SeAFusion', '--weights-root',
        weights, '--cost-size', '32', '32', '--repeats', '1'
    ]))['TNO']
    assert result['max']['params'] == 0
    assert result['SeAFusion']['params'] == 166883  # the official count
    for metric in bench.resolve_metrics('cddfuse', None):
        assert sorted([result['max']['rank'][metric],
                       result['SeAFusion']['rank'][metric]]) in ([1, 2],
                                                                 [1, 1])


def test_default_methods_leave_out_tardal_plus(bench, tmp_path):
    """TarDAL+ (a dark edge map, not a fused image) ran in the default
    table like every other method; it runs only when named."""
    def names(*argv):
        args = bench.parse_args(['--weights-root', str(tmp_path / 'none'),
                                 *argv])
        return [m.name for m in bench.resolve_methods(args, str(tmp_path))]

    assert fusion_real.DEFAULT_METHODS == (
        'mean', 'max', 'laplacian', 'SeAFusion', 'TarDAL', 'TarDAL++',
        'IFCNN-MAX')
    assert names() == list(fusion_real.DEFAULT_METHODS)
    assert names('--methods', 'TarDAL+', 'mean') == ['mean', 'TarDAL+']
    assert names('--checkpoint', f'toy={TOY}:{TOY}') == \
        list(fusion_real.DEFAULT_METHODS) + ['toy']
    # a table that holds it marks it, with the caveat beneath
    row = {'EN': 1.0, 'rank': {'EN': 1}, 'mean_rank': 1.0, 'params': 0,
           'flops': 0, 'latency_ms': 0.0, 'pairs': 1}
    text = bench.format_table({'d': {'TarDAL+': row}}, ['EN'])
    assert '| TarDAL+ † | 1.0000 (1) |' in text
    assert text.splitlines()[-1] == (
        '† TarDAL+: `tardal_plus.pt` writes a dark edge map, not a fused '
        'image (mean grey 27 of 255 on TNO 19), under the only published '
        "convention for this file (the TarDAL script's running BatchNorm "
        'statistics; an independent rebuild of that script gives the same '
        'image): its scores do not measure fusion. Not among '
        "`bench_fusion_real.py`'s default methods (`--methods TarDAL+` runs "
        'it).')


def test_merge_rows_hand_case(bench):
    """--merge: the record's rows of the methods not run come first, lose
    their old ranks, and all rows are ranked together."""
    record = {
        'preset': 'cddfuse', 'metrics': ['EN'], 'command': 'python x',
        'commit': 'abc',
        'result': {
            'TNO': {'old': {'EN': 5.0, 'rank': {'EN': 1}, 'mean_rank': 1,
                            'pairs': 2},
                    'mine': {'EN': 1.0, 'pairs': 2},
                    'gone': {'absent': 'weights missing'}},
            'Other': {'x': {'EN': 9.0, 'pairs': 4}},
        }
    }
    result = {'TNO': {'mine': {'EN': 6.0, 'pairs': 2}}}
    merged = bench.merge_rows(result, record, 'rec.json')
    assert merged == {'record': 'rec.json', 'command': 'python x',
                      'commit': 'abc'}
    assert list(result) == ['TNO']  # datasets of this run only
    assert list(result['TNO']) == ['old', 'gone', 'mine']
    assert result['TNO']['mine'] == {'EN': 6.0, 'pairs': 2}  # this run's
    assert result['TNO']['old'] == {'EN': 5.0, 'pairs': 2}
    bench.add_ranks(result['TNO'], ['EN'])
    assert result['TNO']['mine']['rank'] == {'EN': 1}
    assert result['TNO']['old']['rank'] == {'EN': 2}
    assert record['result']['TNO']['old']['rank'] == {'EN': 1}  # untouched
    with pytest.raises(ValueError, match=r'rec\.json: TNO/old was measured '
                       r'on 2 pairs, this run on \[3\]'):
        bench.merge_rows({'TNO': {'new': {'EN': 1.0, 'pairs': 3}}}, record,
                         'rec.json')


def test_read_record_refuses_another_cost_size_or_threads(tmp_path):
    """--merge: rows whose GFLOPs / ms were measured at another
    --cost-size or thread count are refused, naming the record and key;
    the same ones (or unchecked) are read."""
    metrics = ['EN', 'SD']
    rec = tmp_path / 'rec.json'
    rec.write_text(json.dumps(dict(
        command='python x', commit='0' * 40, preset=fusion_real.PRESET,
        metrics=metrics, cost_size=[480, 640], machine=dict(threads=1),
        result={})))
    read = fusion_real.read_record
    assert read(str(rec), metrics, cost_size=(480, 640), threads=1)
    assert read(str(rec), metrics)  # nothing to compare
    with pytest.raises(ValueError, match=rf"--merge {re.escape(str(rec))}: "
                       r"the record's cost_size \[480, 640\] differs from "
                       r"this run's --cost-size \[32, 32\]"):
        read(str(rec), metrics, cost_size=(32, 32), threads=1)
    with pytest.raises(ValueError, match=r"the record's machine.threads 1 "
                       r"differs from this run's --threads 2"):
        read(str(rec), metrics, cost_size=(480, 640), threads=2)
    record = json.loads(rec.read_text())
    del record['machine'], record['cost_size']
    rec.write_text(json.dumps(record))
    for kwargs, key in ((dict(cost_size=(480, 640)), 'cost_size'),
                        (dict(threads=1), 'machine.threads')):
        with pytest.raises(ValueError,
                           match=rf"record's {key} \(not recorded\)"):
            read(str(rec), metrics, **kwargs)


def test_merge_end_to_end_and_bad_record(bench, toy_ckpt, tmp_path, capsys):
    pairs = _pairs(tmp_path / 'mine')
    rec, rec2 = tmp_path / 'rec.json', tmp_path / 'rec2.json'
    common = ['--pairs', str(pairs), '--cost-size', '32', '32', '--repeats',
              '1', '--weights-root', str(tmp_path / 'no_weights')]
    assert bench.main(common + [
        '--methods', 'toy', '--checkpoint', f'toy={TOY}:{toy_ckpt}',
        '--results-json', str(rec)]) == 0
    first = json.loads(rec.read_text())['result']['mine']['toy']
    assert bench.main(common + [
        '--methods', 'toy2', '--checkpoint', f'toy2={TOY}:{toy_ckpt}',
        '--merge', str(rec), '--results-json', str(rec2)]) == 0
    record = json.loads(rec2.read_text())
    table = record['result']['mine']
    assert list(table) == ['toy', 'toy2']
    # the same weights: equal values, shared ranks over both rows
    for m in bench.resolve_metrics('cddfuse', None):
        assert table['toy2'][m] == pytest.approx(first[m], abs=1e-12)
    assert table['toy']['rank'] == table['toy2']['rank']
    assert set(table['toy']['rank'].values()) == {1}
    assert record['merged']['record'] == str(rec)
    assert record['merged']['commit'] == git_commit(bench.ROOT)
    # a record of other metrics: an error naming it, before any method runs
    bad = json.loads(rec.read_text())
    bad['metrics'] = ['EN']
    rec.write_text(json.dumps(bad))
    capsys.readouterr()
    out = tmp_path / 'o.json'
    assert bench.main(common + [
        '--methods', 'toy2', '--checkpoint', f'toy2={TOY}:{toy_ckpt}',
        '--merge', str(rec), '--out', str(out)]) == 2
    captured = capsys.readouterr()
    assert f'--merge {rec}: preset' in captured.err
    assert 'toy2 on' not in captured.out and not out.exists()
