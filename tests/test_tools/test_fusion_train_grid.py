"""tools/analysis_tools/fusion_train_grid.py on stand-ins: two tiny test
pairs, a stand-in base record, checkpoints of freshly built networks.

Checked: the table's shape (base rows + one row per cell), each cell
ranked against the base rows alone (hand-checked ranks), the goal and the
reproduction ratios, the resume (stored scores reused, trained cells not
trained again), weights-only export that loads into the inference config,
and the errors for unknown cells and mismatched pair counts.
"""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.registry import MODELS
from mmfusenas.testing import load_tool

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


def _record(path, grid, metrics, pairs=2):
    """A stand-in base record: 'mean' best on every metric, 'SeAFusion'
    second (value 2 / 1), 'max' worst (value 0 / -1)."""
    rows = {}
    for name, value in (('mean', 1e6), ('SeAFusion', 1e5), ('max', -1e6)):
        rows[name] = {m: value for m in metrics}
        rows[name].update(pairs=pairs, params=0, flops=0, latency_ms=0.0)
    record = dict(command='stand-in', commit='0' * 40,
                  preset=grid.BENCH.PRESET, metrics=metrics,
                  result={'TNO': rows})
    path.write_text(json.dumps(record))


def _checkpoint(work, arch, loss, iters):
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(SEAFUSION).model)
    folder = work / arch / loss
    folder.mkdir(parents=True)
    torch.save({'state_dict': model.state_dict()},
               str(folder / f'iter_{iters}.pth'))


def _args(tmp_path, *extra):
    return [
        '--archs', f'SeAFusion={SEAFUSION}', '--losses', 'content', 'tim',
        '--max-iters', '3', '--datasets', 'TNO', '--data-root',
        str(tmp_path / 'data'), '--merge',
        str(tmp_path / 'base.json'), '--work-dir',
        str(tmp_path / 'work'), '--cost-size', '48', '56', '--reproduce',
        'SeAFusion/content=SeAFusion', '--skip-training', *extra
    ]


def test_grid_table_goal_resume_export(grid, tmp_path, monkeypatch):
    metrics = list(grid.resolve_metrics(grid.BENCH.PRESET, None))
    _pairs(tmp_path / 'data')
    _record(tmp_path / 'base.json', grid, metrics)
    for loss in ('content', 'tim'):
        _checkpoint(tmp_path / 'work', 'SeAFusion', loss, 3)
    monkeypatch.chdir(tmp_path)  # checkpoints/ is written under cwd
    out = tmp_path / 'out' / 'table.json'
    argv = _args(tmp_path, '--out', str(out), '--export',
                 'mine=SeAFusion/content', '--results-json',
                 str(tmp_path / 'record.json'))
    result = grid.run(grid.parse_args(argv))

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
    again = grid.run(grid.parse_args(_args(tmp_path)))
    assert again['grid'] == result['grid']


def test_trained_cells_are_not_trained_again(grid, tmp_path, monkeypatch):
    args = grid.parse_args(_args(tmp_path))
    _checkpoint(tmp_path / 'work', 'SeAFusion', 'content', 3)
    monkeypatch.setattr(grid.subprocess, 'call', lambda *a, **k: 1 / 0)
    assert grid.train_cell(args, SEAFUSION, 'SeAFusion', 'content') == \
        osp.join(str(tmp_path / 'work'), 'SeAFusion', 'content',
                 'iter_3.pth')
    with pytest.raises(FileNotFoundError, match='skip-training'):
        grid.train_cell(args, SEAFUSION, 'SeAFusion', 'tim')
    # the training command of a cell
    cmd = grid.train_command(args, SEAFUSION, 'SeAFusion', 'tim')
    assert cmd[-6:] == ['--max-iters', '3', '--resume', '--cfg-options',
                        'model.losses=tim', 'randomness.seed=0']


def test_errors(grid, tmp_path):
    metrics = list(grid.resolve_metrics(grid.BENCH.PRESET, None))
    _pairs(tmp_path / 'data')
    _record(tmp_path / 'base.json', grid, metrics, pairs=25)
    _checkpoint(tmp_path / 'work', 'SeAFusion', 'content', 3)
    _checkpoint(tmp_path / 'work', 'SeAFusion', 'tim', 3)
    with pytest.raises(ValueError, match='scored on 25 pairs'):
        grid.run(grid.parse_args(_args(tmp_path)))
    bad = _args(tmp_path) + ['--export', 'x=TIM/content']
    with pytest.raises(ValueError, match='not in the grid'):
        grid.run(grid.parse_args(bad))
    bad = _args(tmp_path)
    bad[bad.index('--losses') + 1] = 'no_such_set'
    with pytest.raises(Exception, match='no_such_set'):
        grid.run(grid.parse_args(bad))
