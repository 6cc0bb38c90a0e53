"""tools/analysis_tools/fusion_train_grid.py on stand-ins: two tiny test
pairs, a stand-in base record, checkpoints of freshly built networks.

Checked: the table's shape (base rows + one row per cell), each cell
ranked against the base rows alone (hand-checked ranks), the goal and the
reproduction ratios, the resume (stored scores reused, trained cells not
trained again), weights-only export that loads into the inference config,
and the errors for unknown cells, mismatched pair counts and a merged
record of another cost size or thread count. The cache: a cell is trained
again when its config, a file the config names (genotype), loss set, seed,
budget or training data changed, not when the checkout moved; scored again
when its checkpoint, test data, preset or scoring code changed (every
module on the scoring path is hashed), not when --data-root moved; a
damaged scores.json is named and scored again, never reported. Training
is a stand-in (tools/train.py is replaced by a function writing the
checkpoint and counting its calls).
"""
import argparse
import inspect
import json
import os.path as osp
import re
import shutil
import types

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.registry import MODELS
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEAFUSION = osp.join(REPO, 'configs', 'baselines',
                     'seafusion_ivif_roadscene221_cpu.py')

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def grid():
    return load_tool('tools/analysis_tools/fusion_train_grid.py')


def _pairs(root):
    rng = np.random.default_rng(0)
    for mod in ('ir', 'vi'):
        (root / 'TNO' / mod).mkdir(parents=True)
        for stem in ('p1', 'p2'):
            shape = (48, 56) if mod == 'ir' else (48, 56, 3)
            cv2.imwrite(str(root / 'TNO' / mod / f'{stem}.png'),
                        rng.integers(0, 256, shape, dtype=np.uint8))


def _record(path, grid, metrics, pairs=2, cost_size=(48, 56), threads=1):
    """A stand-in base record: 'mean' best on every metric, 'SeAFusion'
    second (value 2 / 1), 'max' worst (value 0 / -1); its cost measured at
    ``cost_size`` with ``threads`` (as :func:`_args`)."""
    rows = {}
    for name, value in (('mean', 1e6), ('SeAFusion', 1e5), ('max', -1e6)):
        rows[name] = {m: value for m in metrics}
        rows[name].update(pairs=pairs, params=0, flops=0, latency_ms=0.0)
    record = dict(command='stand-in', commit='0' * 40,
                  preset=grid.fusion_real.PRESET, metrics=metrics,
                  cost_size=list(cost_size), machine=dict(threads=threads),
                  result={'TNO': rows})
    path.write_text(json.dumps(record))


@pytest.fixture(scope='module')
def state():
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(SEAFUSION).model).state_dict()


@pytest.fixture
def trained(grid, state, tmp_path, monkeypatch):
    """Stand-in training: the work dirs tools/train.py was run with (its
    calls); the training set is two tiny pairs under tmp_path/train."""
    _pairs(tmp_path / 'train')
    files = sorted(str(f) for f in (tmp_path / 'train').rglob('*.png'))
    monkeypatch.setattr(grid, 'train_files',
                        lambda config: (str(tmp_path / 'train'), files))
    calls = []

    def train(cmd, **kwargs):
        work = cmd[cmd.index('--work-dir') + 1]
        iters = cmd[cmd.index('--max-iters') + 1]
        torch.save({'state_dict': state}, osp.join(work, f'iter_{iters}.pth'))
        calls.append(work)
        return 0

    monkeypatch.setattr(grid.subprocess, 'call', train)
    return calls


def _args(tmp_path, *extra):
    return [
        '--archs', f'SeAFusion={SEAFUSION}', '--losses', 'content', 'tim',
        '--max-iters', '3', '--datasets', 'TNO', '--data-root',
        str(tmp_path / 'data'), '--merge',
        str(tmp_path / 'base.json'), '--work-dir',
        str(tmp_path / 'work'), '--cost-size', '48', '56', '--reproduce',
        'SeAFusion/content=SeAFusion', *extra
    ]


def test_grid_table_goal_resume_export(grid, tmp_path, monkeypatch,
                                       trained):
    metrics = list(grid.resolve_metrics(grid.fusion_real.PRESET, None))
    _pairs(tmp_path / 'data')
    _record(tmp_path / 'base.json', grid, metrics)
    monkeypatch.chdir(tmp_path)  # checkpoints/ is written under cwd
    out = tmp_path / 'out' / 'table.json'
    argv = _args(tmp_path, '--out', str(out), '--export',
                 'mine=SeAFusion/content', '--results-json',
                 str(tmp_path / 'record.json'))
    result = grid.run(grid.parse_args(argv))
    assert len(trained) == 2

    doc = json.loads(out.read_text())
    # base rows + one row per cell, ranked together
    assert list(doc['result']['TNO']) == [
        'mean', 'max', 'SeAFusion', 'SeAFusion/content', 'SeAFusion/tim']
    cell = result['grid']['SeAFusion']['content']['TNO']
    # against the base rows alone: behind 'mean' and 'SeAFusion' (values
    # 1e6, 1e5), ahead of 'max' on every metric -> rank 3 everywhere
    assert cell['rank'] == {m: 3 for m in metrics}
    assert cell['mean_rank'] == 3 and cell['top2'] == 0
    assert cell['best_published_mean_rank'] == 2
    assert cell['pairs'] == 2
    assert doc['result']['TNO']['SeAFusion/content']['params'] == 166_883
    # the summary tables: architecture x (loss, dataset)
    assert doc['result'][grid.SUMMARY_MEAN_RANK] == {
        'SeAFusion': {'content TNO': 3.0, 'tim TNO': 3.0}}
    assert doc['result'][grid.SUMMARY_TOP2]['SeAFusion']['tim TNO'] == 0
    assert doc['table_metrics'][grid.SUMMARY_TOP2] == ['content TNO',
                                                       'tim TNO']
    # reproduction: trained / official per metric
    ratios = result['seafusion_reproduction']['SeAFusion/content']['TNO']
    assert ratios['EN'] == pytest.approx(cell['EN'] / 1e5)
    assert result['goal']['reached'] is False
    assert result['goal']['tim_reached'] is False
    assert result['goal']['reproduction_within_10pct'] == {
        'SeAFusion/content': {'TNO': 0}}
    # the figure: header + one row of IR, VIS, 7 base columns, 2 cells
    fig = cv2.imread(str(tmp_path / 'out' / 'table_grid.png'))
    assert fig.shape[1] == 256 * (2 + len(grid.BASE_ROWS) + 2)
    # exported weights only, loading into the inference config
    saved = torch.load('checkpoints/mine.pth', weights_only=True)
    assert set(saved) == {'state_dict'}
    init_default_scope('mmfusenas')
    ref = MODELS.build(Config.fromfile(
        osp.join(REPO, 'configs', 'baselines', 'seafusion_ivif.py')).model)
    ref.load_state_dict(saved['state_dict'], strict=True)
    record = json.loads((tmp_path / 'record.json').read_text())
    for key in ('command', 'commit', 'machine', 'grid', 'goal',
                'seafusion_reproduction', 'checkpoints', 'budget'):
        assert key in record
    assert record['checkpoints']['mine']['architecture'] == 'SeAFusion'
    assert record['checkpoints']['mine']['loss'] == 'content'

    # resume: stored scores are reused (no model is built again)
    def refuse(*args, **kwargs):
        raise AssertionError('scored again')

    monkeypatch.setattr(grid, 'init_model', refuse)
    again = grid.run(grid.parse_args(_args(tmp_path, '--skip-training')))
    assert again['grid'] == result['grid']
    assert len(trained) == 2


def test_trained_cells_are_not_trained_again(grid, tmp_path, monkeypatch,
                                             trained):
    args = grid.parse_args(_args(tmp_path))
    hashes = grid.FileHashes(str(tmp_path / 'hashes.json'))
    ckpt = grid.train_cell(args, SEAFUSION, 'SeAFusion', 'content', hashes)
    assert ckpt == osp.join(str(tmp_path / 'work'), 'SeAFusion', 'content',
                            'iter_3.pth')
    monkeypatch.setattr(grid.subprocess, 'call', lambda *a, **k: 1 / 0)
    assert grid.train_cell(args, SEAFUSION, 'SeAFusion', 'content',
                           hashes) == ckpt
    args = grid.parse_args(_args(tmp_path, '--skip-training'))
    with pytest.raises(FileNotFoundError, match='skip-training'):
        grid.train_cell(args, SEAFUSION, 'SeAFusion', 'tim', hashes)
    # the training command of a cell
    cmd = grid.train_command(args, SEAFUSION, 'SeAFusion', 'tim')
    assert cmd[-6:] == ['--max-iters', '3', '--resume', '--cfg-options',
                        'model.losses=tim', 'randomness.seed=0']


def test_errors(grid, tmp_path, trained):
    metrics = list(grid.resolve_metrics(grid.fusion_real.PRESET, None))
    _pairs(tmp_path / 'data')
    _record(tmp_path / 'base.json', grid, metrics, pairs=25)
    with pytest.raises(ValueError, match='scored on 25 pairs'):
        grid.run(grid.parse_args(_args(tmp_path)))
    bad = _args(tmp_path) + ['--export', 'x=TIM/content']
    with pytest.raises(ValueError, match='not in the grid'):
        grid.run(grid.parse_args(bad))
    bad = _args(tmp_path)
    bad[bad.index('--losses') + 1] = 'no_such_set'
    with pytest.raises(Exception, match='no_such_set'):
        grid.run(grid.parse_args(bad))


def test_merged_record_of_another_cost_size_or_threads_is_refused(
        grid, tmp_path, trained):
    """The base rows' GFLOPs / ms sit beside the cells': measured at the
    same --cost-size and --threads, else an error naming the record and
    key before any cell trains."""
    metrics = list(grid.resolve_metrics(grid.fusion_real.PRESET, None))
    _pairs(tmp_path / 'data')
    base = tmp_path / 'base.json'
    _record(base, grid, metrics, cost_size=(480, 640))
    merge = f"--merge {re.escape(str(base))}: the record's "
    with pytest.raises(ValueError, match=merge +
                       r'cost_size \[480, 640\] differs from this run\'s '
                       r'--cost-size \[48, 56\]'):
        grid.run(grid.parse_args(_args(tmp_path)))
    _record(base, grid, metrics, threads=2)
    with pytest.raises(ValueError, match=merge +
                       r'machine.threads 2 differs from this run\'s '
                       r'--threads 1'):
        grid.run(grid.parse_args(_args(tmp_path)))
    record = json.loads(base.read_text())
    del record['cost_size']
    base.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=r'cost_size \(not recorded\)'):
        grid.run(grid.parse_args(_args(tmp_path, '--threads', '2')))
    assert trained == []


def test_train_files_of_a_config(grid):
    """The training set of a grid config: every file of its split."""
    root = osp.join(REPO, '..', 'shared', 'data', 'fusion', 'RoadScene221')
    if not osp.isdir(root):
        pytest.skip('RoadScene221 not present')
    split = osp.join(REPO, 'configs', '_base_', 'datasets', 'splits',
                     'roadscene221', 'train.txt')
    with open(split) as f:
        stems = [ln.strip() for ln in f
                 if ln.strip() and not ln.startswith('#')]
    found, files = grid.train_files(SEAFUSION)
    assert osp.samefile(found, root)
    assert len(files) == 2 * len(stems) and all(
        osp.isfile(f) and f.startswith(found) for f in files)


def test_cell_trained_again_when_its_inputs_change(grid, tmp_path, trained,
                                                   capsys):
    hashes = grid.FileHashes(str(tmp_path / 'work' / 'hashes.json'))
    cell = tmp_path / 'work' / 'SeAFusion' / 'content'

    def train(*extra, config=SEAFUSION):
        capsys.readouterr()
        grid.train_cell(grid.parse_args(_args(tmp_path, *extra)), config,
                        'SeAFusion', 'content', hashes)
        return capsys.readouterr().out

    def stored():
        return json.loads((cell / 'cell.json').read_text())['key']

    train()
    train()  # unchanged: reused
    assert len(trained) == 1 and stored()['seed'] == 0
    # another seed: the cell is moved aside and trained again
    assert 'seed changed' in train('--seed', '1')
    assert len(trained) == 2 and stored()['seed'] == 1
    stale = json.loads((tmp_path / 'work' / 'SeAFusion' / 'content.stale' /
                        'cell.json').read_text())
    assert stale['key']['seed'] == 0
    # another config under the same architecture name
    other = tmp_path / 'other.py'
    other.write_text(f'_base_ = [{SEAFUSION!r}]\n'
                     'default_hooks = dict(logger=dict(interval=7))\n')
    assert 'config_sha256 changed' in train('--seed', '1',
                                            config=str(other))
    assert len(trained) == 3
    # other training data (same names, other bytes)
    assert cv2.imwrite(str(tmp_path / 'train' / 'TNO' / 'ir' / 'p1.png'),
                       np.zeros((48, 56), np.uint8))
    assert 'train_data_sha256 changed' in train('--seed', '1',
                                                config=str(other))
    assert len(trained) == 4
    train('--seed', '1', config=str(other))
    assert len(trained) == 4
    # --skip-training refuses a cell made from other inputs
    with pytest.raises(ValueError, match='config_sha256, seed changed'):
        train('--skip-training')
    # a cell whose inputs are not recorded is not trusted
    (cell / 'cell.json').unlink()
    assert 'cell.json not found' in train('--seed', '1', config=str(other))
    assert len(trained) == 5 and stored()['seed'] == 1


def test_cell_reused_from_a_moved_checkout_retrained_on_an_edited_genotype(
        grid, tmp_path, trained, capsys):
    """The configs' own paths (``{{ fileDirname }}``: the genotype, the
    split lists) differ between checkouts but name the same files: a
    trained cell is reused there; an edited genotype file (same path) is
    trained again, named."""
    name = osp.join('tim', 'tim_searched_ivif_roadscene221_cpu.py')
    shutil.copytree(osp.join(REPO, 'configs'), tmp_path / 'a' / 'configs')
    hashes = grid.FileHashes(str(tmp_path / 'work' / 'hashes.json'))
    cell = tmp_path / 'work' / 'TIM-searched' / 'content'

    def train(checkout, *extra):
        capsys.readouterr()
        grid.train_cell(
            grid.parse_args(_args(tmp_path, *extra)),
            str(tmp_path / checkout / 'configs' / name), 'TIM-searched',
            'content', hashes)
        return capsys.readouterr().out

    train('a')
    assert len(trained) == 1
    assert str(tmp_path) not in (cell / 'cell.json').read_text()
    # the checkout moved: the same inputs, the cell is reused
    shutil.move(str(tmp_path / 'a'), str(tmp_path / 'b'))
    assert 'changed' not in train('b')
    assert len(trained) == 1 and not osp.exists(str(cell) + '.stale')
    # the files the config names are in the key, from <repository>
    key = json.loads((cell / 'cell.json').read_text())['key']
    genotype = '<repository>/configs/tim/genotypes/' \
        'tim_fusion_roadscene221_ias_s0.yaml'
    assert genotype in key['config_files']
    assert '<repository>/configs/_base_/datasets/splits/roadscene221/' \
        'train.txt' in key['config_files']
    # the genotype edited in place: trained again, the file named
    path = tmp_path / 'b' / 'configs' / 'tim' / 'genotypes' / \
        'tim_fusion_roadscene221_ias_s0.yaml'
    path.write_text(path.read_text() + '# edited\n')
    assert f'config_files[{genotype}] changed' in train('b')
    assert len(trained) == 2 and osp.isdir(str(cell) + '.stale')
    train('b')
    assert len(trained) == 2
    # --skip-training refuses it, naming the file
    path.write_text(path.read_text() + '# again\n')
    with pytest.raises(ValueError, match=re.escape(
            f'config_files[{genotype}] changed')):
        train('b', '--skip-training')


def _scoring_path(entries):
    """The functions of ``mmfusenas`` the ``entries`` call, transitively:
    every global name (or module attribute) their code reads that is such
    a function, or a dict / list holding some (``FUSION_PRESETS``)."""
    def names(code):
        out = set(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                out |= names(const)
        return out

    def functions(obj, depth=0):
        if isinstance(obj, types.FunctionType):
            yield inspect.unwrap(obj)
        elif isinstance(obj, (dict, list, tuple)) and depth < 3:
            for value in (obj.values() if isinstance(obj, dict) else obj):
                yield from functions(value, depth + 1)

    seen, todo = set(), list(entries)
    while todo:
        fn = todo.pop()
        if fn in seen or not fn.__module__.startswith('mmfusenas'):
            continue
        seen.add(fn)
        scope = fn.__globals__
        for name in names(fn.__code__):
            if name in scope:
                todo += functions(scope[name])
    return seen


def test_scorer_files_cover_the_scoring_path(grid):
    """Every module of a function the scoring (:func:`score_cell`, through
    ``fusion_real``) calls, transitively, is hashed: moving a scoring
    function to a module not listed fails here. The model (built by
    ``init_model`` from the config and checkpoint) is hashed apart."""
    code = grid.score_cell.__code__
    entries = [getattr(grid.fusion_real, n) for n in code.co_names
               if isinstance(getattr(grid.fusion_real, n, None),
                             types.FunctionType)]
    assert {f.__name__ for f in entries} >= {'run_method', 'measure_cost'}
    listed = {osp.relpath(f, grid.ROOT) for pattern in grid.SCORER_FILES
              for f in grid.glob.glob(osp.join(grid.ROOT, pattern),
                                      recursive=True)}
    path = {osp.relpath(inspect.getsourcefile(f), grid.ROOT)
            for f in _scoring_path(entries)}
    assert {'mmfusenas/benchmark/fusion_real.py',
            'mmfusenas/evaluation/fusion_files.py',
            'mmfusenas/evaluation/fusion_presets.py',
            'mmfusenas/evaluation/functional/fusion.py'} <= path
    assert sorted(path - listed) == []
    # the classes the inference path builds by name (the pairs' dataset,
    # the loading and packing transforms) are not followed above
    assert {'mmfusenas/datasets/paired_image_dataset.py',
            'mmfusenas/datasets/transforms/loading.py',
            'mmfusenas/datasets/transforms/formatting.py'} <= listed
    # and nothing listed is missing from the checkout
    for pattern in grid.SCORER_FILES:
        assert grid.glob.glob(osp.join(grid.ROOT, pattern),
                              recursive=True), pattern


@pytest.fixture
def scorer(grid, tmp_path, monkeypatch, trained):
    """Stand-in scoring of cell SeAFusion/content (every metric 1.0):
    ``score(*extra)`` returns (rows, output); ``calls`` counts the
    scorings."""
    metrics = list(grid.resolve_metrics(grid.fusion_real.PRESET, None))
    _pairs(tmp_path / 'data')
    calls = []

    def run_method(model, mods, max_pairs, metrics):
        calls.append(mods)
        return (dict({m: 1.0 for m in metrics}, pairs=2),
                [np.full((48, 56, 3), 9, np.uint8)])

    monkeypatch.setattr(grid, 'init_model', lambda *a, **k: None)
    monkeypatch.setattr(grid.fusion_real, 'run_method', run_method)
    monkeypatch.setattr(grid.fusion_real, 'measure_cost', lambda *a: dict(
        params=1, flops=2, latency_ms=0.5))
    code = tmp_path / 'scorer.py'
    code.write_text('version = 1\n')
    monkeypatch.setattr(grid, 'SCORER_FILES', (str(code), ))
    hashes = grid.FileHashes(str(tmp_path / 'work' / 'hashes.json'))
    path = str(tmp_path / 'work' / 'SeAFusion' / 'content' / 'scores.json')

    def score(*extra, capsys):
        args = grid.parse_args(_args(tmp_path, *extra))
        ckpt = grid.train_cell(args, SEAFUSION, 'SeAFusion', 'content',
                               hashes)
        folders = grid.fusion_real.dataset_folders(argparse.Namespace(
            pairs=None, datasets=args.datasets, data_root=args.data_root))
        capsys.readouterr()
        rows = grid.score_cell(args, SEAFUSION, ckpt, folders, metrics,
                               str(tmp_path), path, hashes)
        return rows, capsys.readouterr().out

    return argparse.Namespace(score=score, calls=calls, path=path,
                              code=code, metrics=metrics)


def test_cell_scored_again_when_its_inputs_change(grid, tmp_path, scorer,
                                                  monkeypatch, capsys):
    score, calls = scorer.score, scorer.calls
    rows, _ = score(capsys=capsys)
    assert rows['TNO']['EN'] == 1.0 and len(calls) == 1
    assert score(capsys=capsys)[0] == rows and len(calls) == 1
    # the same files under another --data-root: reused (the key holds no
    # absolute path)
    shutil.copytree(tmp_path / 'data', tmp_path / 'data2')
    data2 = ('--data-root', str(tmp_path / 'data2'))
    assert score(*data2, capsys=capsys)[0] == rows and len(calls) == 1
    assert str(tmp_path) not in open(scorer.path).read()
    # other test images
    assert cv2.imwrite(str(tmp_path / 'data2' / 'TNO' / 'vi' / 'p2.png'),
                       np.zeros((48, 56, 3), np.uint8))
    assert 'test_data_sha256 changed' in score(*data2, capsys=capsys)[1]
    assert len(calls) == 2
    # another version of the scoring code, another preset
    scorer.code.write_text('version = 22\n')
    assert 'scorer_sha256 changed' in score(*data2, capsys=capsys)[1]
    monkeypatch.setattr(grid.fusion_real, 'PRESET', 'other')
    assert 'preset changed' in score(*data2, capsys=capsys)[1]
    assert len(calls) == 4
    score(*data2, capsys=capsys)
    assert len(calls) == 4
    # a retrained cell (another seed) is scored again: its old scores
    # were moved aside with it
    rows, _ = score(*data2, '--seed', '1', capsys=capsys)
    assert len(calls) == 5 and rows['TNO']['EN'] == 1.0
    assert osp.isfile(osp.join(osp.dirname(scorer.path) + '.stale',
                               'scores.json'))


def test_damaged_scores_are_named_and_scored_again(grid, scorer, capsys):
    score, calls, path = scorer.score, scorer.calls, scorer.path
    rows, _ = score(capsys=capsys)
    good = open(path).read()
    png = osp.join(osp.dirname(path), 'first_TNO.png')
    good_png = open(png, 'rb').read()

    damages = {
        'not valid JSON': lambda: '',
        # cut before "rows": where the file is cut does not depend on the
        # length of the temporary path stored in its key
        'not valid JSON: Expecting': lambda: good[:good.index('"rows"')],
        'rows edited': lambda: good.replace('"EN": 1.0', '"EN": 123.0'),
        'non-finite EN': lambda: good.replace('"EN": 1.0', '"EN": NaN'),
        'missing or non-finite SD': lambda: good.replace('"SD": 1.0,', ''),
        'preset changed': lambda: good.replace(
            f'"preset": "{grid.fusion_real.PRESET}"', '"preset": "x"'),
        'no key or rows': lambda: '[]',
    }
    for n, (why, damage) in enumerate(damages.items(), 2):
        with open(path, 'w') as f:
            f.write(damage())
        if 'non-finite' in why:  # damaged, yet with its checksum
            stored = json.loads(open(path).read())
            stored['rows_sha256'] = grid.text_sha256(stored['rows'])
            with open(path, 'w') as f:
                f.write(json.dumps(stored))
        again, out = score(capsys=capsys)
        assert why in out and path in out and 'scoring again' in out, why
        assert again == rows and len(calls) == n, why
        assert json.loads(open(path).read()) == json.loads(good), why
    # a truncated first fused image (the figure's) is made again
    with open(png, 'wb') as f:
        f.write(good_png[:len(good_png) // 2])
    again, out = score(capsys=capsys)
    assert 'scoring again' in out and png in out and again == rows
    assert open(png, 'rb').read() == good_png


def test_figure_reads_cell_images_checked(grid, tmp_path, monkeypatch):
    _pairs(tmp_path / 'data')
    args = grid.parse_args(_args(tmp_path))
    folders = grid.fusion_real.dataset_folders(argparse.Namespace(
        pairs=None, datasets=['TNO'], data_root=args.data_root))
    monkeypatch.setattr(grid.fusion_real, 'resolve_methods', lambda *a: [])
    cell = tmp_path / 'work' / 'SeAFusion' / 'content'
    cell.mkdir(parents=True)
    png = cv2.imencode('.png', np.full((48, 56, 3), 9, np.uint8))[1]
    (cell / 'first_TNO.png').write_bytes(png.tobytes())
    columns, rows = grid.figure_rows(args, folders,
                                     [('SeAFusion', 'content')], '')
    assert columns[-1] == 'SeAFusion/content'
    assert rows[0][1][-1].shape == (48, 56, 3)
    (cell / 'first_TNO.png').write_bytes(png.tobytes()[:100])
    with pytest.raises(OSError, match='first_TNO.png'):
        grid.figure_rows(args, folders, [('SeAFusion', 'content')], '')
