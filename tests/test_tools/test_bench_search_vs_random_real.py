"""benchmarks/bench_search_vs_random.py: the size-matched random control and
the real-data space (TIM's fusion search on RoadScene221, scored on the
RoadScene-50 test pairs)."""
import argparse
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.benchmark.search_spaces import (SPACES, real_data_root,
                                               resolve_real_data)
from mmfusenas.registry import DATASETS, MODELS
from mmfusenas.testing.toy_data.control_sets import DATA

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPLITS = osp.join(REPO, 'configs', '_base_', 'datasets', 'splits',
                  'roadscene221')
REAL = 'tim_fusion_roadscene221'

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def bench():
    path = osp.join(REPO, 'benchmarks', 'bench_search_vs_random.py')
    spec = importlib.util.spec_from_file_location('bench_svr_real', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stems(name):
    with open(osp.join(SPLITS, name), encoding='utf-8') as f:
        return sorted(ln.split()[0] for ln in f
                      if ln.strip() and not ln.startswith('#'))


# ------------------------------------------------------- size-matched draws
SIZES = [100, 150, 205, 300, 95, 108, 190, 1000, 1000]


def test_size_matched_draws_by_hand(bench):
    # searched a = 100 (matches 90..110), b = 200 (180..220); 3 uniform
    # draws (0: a, 1: none, 2: b) are retrained whatever their size; then
    # 3 (300) matches none, 4 (95) is a's second match, 5 (108) matches a
    # that has its 2 already (drawn, not retrained), 6 (190) is b's second
    # match: drawing stops before draw 7
    asked = []

    def size_of(i):
        asked.append(i)
        return SIZES[i]

    retrain, matched, sizes = bench.size_matched_draws(
        {'a': 100.0, 'b': 200.0}, size_of, num_random=3, tolerance=0.1,
        min_matched=2, max_draws=100)
    assert retrain == [0, 1, 2, 4, 6]
    assert matched == {'a': [0, 4], 'b': [2, 6]}
    assert sizes == SIZES[:7]
    assert asked == list(range(7))  # each draw sized once, in order


def test_size_matched_draws_keep_all_uniform_ones(bench):
    # the uniform draws are all made (and retrained) even when their
    # matches already suffice; one draw within both tolerances counts for
    # both searched genotypes
    retrain, matched, sizes = bench.size_matched_draws(
        {'a': 100.0, 'b': 120.0}, lambda i: [105, 50, 109, 109][i],
        num_random=3, tolerance=0.1, min_matched=1, max_draws=10)
    assert retrain == [0, 1, 2]
    assert matched == {'a': [0, 2], 'b': [2]}
    assert sizes == [105, 50, 109]
    retrain, matched, _ = bench.size_matched_draws(
        {'a': 100.0, 'b': 120.0}, lambda i: [50, 109][i], num_random=1,
        tolerance=0.1, min_matched=1, max_draws=10)
    assert retrain == [0, 1] and matched == {'a': [1], 'b': [1]}


def test_size_matched_draws_name_the_short_genotype(bench):
    with pytest.raises(RuntimeError,
                       match=r'--max-draws 5 exhausted: b \(size 200\) has '
                       r'1 of the 2 random genotypes within ±10%'):
        bench.size_matched_draws(
            {'a': 100.0, 'b': 200.0}, lambda i: SIZES[i], num_random=3,
            tolerance=0.1, min_matched=2, max_draws=5)


def test_random_stream_continues_the_uniform_draws(bench):
    spec = SPACES['tim_fusion']
    first = bench.random_genotypes(spec, 3, seed=1000)
    stream = bench.iter_random_genotypes(spec, seed=1000)
    more = [next(stream) for _ in range(5)]
    assert [g.choices for g in more[:3]] == [g.choices for g in first]


# ------------------------------------------------------- ranking twice
def _args(**kw):
    base = dict(quick=True, strategies=['ias_paper'], search_seeds=2,
                first_search_seed=0, reuse=None, argmax_too=False,
                random_derived=0, constant_ops=None, random_subset=None,
                num_random=3, retrain_seeds=1, first_retrain_seed=0,
                search_cfg_options=None, retrain_cfg_options=None, jobs=1,
                match_size='params', size_tolerance=0.1, min_matched=2,
                max_draws=100)
    base.update(kw)
    return argparse.Namespace(**base)


#: retrained held-out scores of the hand-made control below
SCORES = {'ias_paper s0': 0.8, 'ias_paper s1': 2.5, 'random 0': 1.0,
          'random 1': 3.0, 'random 2': 2.0, 'random 4': 0.5, 'random 6': 4.0}


def _fake_control(bench, monkeypatch) -> list:
    """Sizes (searched s0: 100, s1: 200, draws: SIZES) and retrained scores
    (SCORES) by hand instead of searches and retrainings; returns the list
    the unit ids of every run_units call are appended to."""

    def size_of_path(path):
        if 'search_ias_paper_' in path:
            return 100 if 'search_ias_paper_0' in path else 200
        return SIZES[int(osp.basename(path)[len('random_'):-len('.yaml')])]

    def fake_size(spec, path, quick, extra=None, flops=True):
        return dict(params=size_of_path(path))

    ran = []

    def fake_run_units(units, jobs):
        ran.append(sorted(u['id'] for u in units))
        out = {}
        for u in units:
            if u['kind'] == 'retrain':
                s = SCORES[u['label']]
                out[u['id']] = dict(
                    score=s, score_parts={'loss': s},
                    params=size_of_path(u['genotype']), mflops=1.0,
                    held_out_n=50)
        return out

    monkeypatch.setattr(bench, 'genotype_size', fake_size)
    monkeypatch.setattr(bench, 'run_units', fake_run_units)
    return ran


def test_searched_genotypes_ranked_among_all_and_size_matched(
        bench, tmp_path, monkeypatch):
    """The control of a space with hand-set sizes and scores: searched s0
    (size 100) and s1 (200); draws of sizes SIZES; retrained scores below.

    All uniform draws (random 0-2: 1.0, 3.0, 2.0): s0 (0.8) beats all 3
    (100 %), s1 (2.5) beats one (33.3 %). Size-matched: s0 among random 0
    and 4 (1.0, 0.5): 50 %; s1 among random 2 and 6 (2.0, 4.0): 50 %.
    Spearman of the uniform draws' scores (1, 3, 2) with their parameters
    (100, 150, 205): 1 - 6 * 2 / (3 * 8) = 0.5.
    """
    ran = _fake_control(bench, monkeypatch)
    out = bench.bench_space('tim_fusion', SPACES['tim_fusion'],
                            _args(), str(tmp_path))
    space = 'tim_fusion/'
    # the searches first, then every retraining (the matched draws 4, 6)
    assert ran == [
        [space + 'search_ias_paper_0', space + 'search_ias_paper_1'],
        sorted(space + f'retrain_{x}_0' for x in (
            'ias_paper_s0', 'ias_paper_s1', 'random_0', 'random_1',
            'random_2', 'random_4', 'random_6'))]
    ias = out['ias_paper']
    assert ias['searched_rank_pct'] == [100.0, pytest.approx(100 / 3)]
    assert ias['matched_rank_pct'] == [50.0, 50.0]
    assert ias['n_matched'] == [2, 2]
    assert ias['matched_median'] == [0.75, 3.0]
    assert out['random_scores'] == [1.0, 3.0, 2.0]  # the uniform ones only
    assert out['n_random'] == 3
    assert out['spearman_score_params'] == pytest.approx(0.5)
    match = out['size_match']
    assert match['extra_retrained'] == [4, 6]
    assert match['matched'] == {'ias_paper s0': ['random 0', 'random 4'],
                                'ias_paper s1': ['random 2', 'random 6']}
    assert match['draws'] == 7
    # the draws sized but not retrained leave no genotype file behind
    work = tmp_path / 'work' / 'tim_fusion'
    assert sorted(p.name for p in work.glob('random_*.yaml')) == [
        f'random_{i}.yaml' for i in (0, 1, 2, 4, 6)]
    # the docs table of the record: one row per searched genotype
    tables = bench.control_record_tables(
        {'tim_fusion': out, 'settings': {'first_search_seed': 0}},
        ['tim_fusion'])
    assert tables == {'tim_fusion: toy val split': {
        'ias_paper s0': {'held-out loss': 0.8, 'rank % (all random)': 100.0,
                         'rank % (size-matched)': 50.0, 'size-matched n': 2,
                         'params': 100, 'flops': 1e6, 'pairs': 50},
        'ias_paper s1': {'held-out loss': 2.5,
                         'rank % (all random)': pytest.approx(100 / 3),
                         'rank % (size-matched)': 50.0, 'size-matched n': 2,
                         'params': 200, 'flops': 1e6, 'pairs': 50},
        'random median (3 uniform draws)': {'held-out loss': 2.0,
                                            'pairs': 50}}}


def test_only_size_matched_draws_with_num_random_0(bench, tmp_path,
                                                  monkeypatch):
    """``--num-random 0``: only the size-matched draws (random 0, 4 for s0;
    2, 6 for s1) are retrained; no uniform median, rank or Spearman rho
    (None, never NaN, so the record is strict JSON), the same matched
    ranks as with uniform draws, and no uniform rows in the docs table."""
    import json
    ran = _fake_control(bench, monkeypatch)
    out = bench.bench_space('tim_fusion', SPACES['tim_fusion'],
                            _args(num_random=0), str(tmp_path))
    assert ran[1] == sorted(f'tim_fusion/retrain_{x}_0' for x in (
        'ias_paper_s0', 'ias_paper_s1', 'random_0', 'random_2', 'random_4',
        'random_6'))
    assert out['n_random'] == 0 and out['random_scores'] == []
    assert out['random_median'] is None
    assert out['spearman_score_params'] is None
    ias = out['ias_paper']
    assert ias['searched_rank_pct'] == [None, None]
    assert ias['matched_rank_pct'] == [50.0, 50.0]
    assert 'rank_pct_by_term' not in ias
    json.dumps(out, allow_nan=False)
    tables = bench.control_record_tables(
        {'tim_fusion': out, 'settings': {'first_search_seed': 0}},
        ['tim_fusion'])
    assert tables == {'tim_fusion: toy val split': {
        'ias_paper s0': {'held-out loss': 0.8, 'rank % (size-matched)': 50.0,
                         'size-matched n': 2, 'params': 100, 'flops': 1e6,
                         'pairs': 50},
        'ias_paper s1': {'held-out loss': 2.5, 'rank % (size-matched)': 50.0,
                         'size-matched n': 2, 'params': 200, 'flops': 1e6,
                         'pairs': 50}}}


# ------------------------------------------------------- the real space
def test_missing_real_data_is_a_clear_error(bench, monkeypatch):
    spec = dict(SPACES[REAL], real_data='../no_such_data_folder')
    missing = osp.normpath(osp.join(REPO, '../no_such_data_folder'))
    with pytest.raises(FileNotFoundError,
                       match=f"space 'x' reads real data from {missing} "):
        real_data_root(spec, 'x')
    # the benchmark fails before it searches or writes anything
    monkeypatch.setitem(SPACES, REAL, spec)
    monkeypatch.setattr(sys, 'argv', [
        'bench_search_vs_random.py', '--spaces', REAL, '--work-dir',
        '/nonexistent/never_made'])
    with pytest.raises(FileNotFoundError, match='no_such_data_folder'):
        bench.main_control()
    assert not osp.exists('/nonexistent/never_made')
    # a toy space has no data folder to check
    assert real_data_root(SPACES['tim_fusion']) == ''


def test_real_space_configs_resolve_on_the_shared_data(bench, shared_data):
    init_default_scope('mmfusenas')
    spec = SPACES[REAL]
    root = real_data_root(spec, REAL)
    assert osp.isabs(root)
    assert osp.realpath(root) == osp.realpath(osp.join(shared_data, 'fusion'))
    search = Config.fromfile(osp.join(REPO, spec['search']))
    resolve_real_data(search, spec)
    weights = DATASETS.build(search.train_dataloader.dataset)
    arch = DATASETS.build(search.train_cfg.arch_dataloader.dataset)
    stems = {}
    for name, ds in (('search_weights.txt', weights),
                     ('search_arch.txt', arch)):
        assert osp.isabs(ds.data_root)
        assert osp.realpath(ds.data_root) == osp.realpath(
            osp.join(shared_data, 'fusion', 'RoadScene221'))
        stems[name] = sorted(ds.get_data_info(i)['stem']
                             for i in range(len(ds)))
        assert stems[name] == _stems(name)
    test = set(_stems('test.txt'))
    assert not test & (set(stems['search_weights.txt'])
                       | set(stems['search_arch.txt']))
    # IVIF only: one loader pair; the test split is not read while searching
    assert isinstance(search.train_dataloader, dict)
    assert search.get('val_dataloader') is None
    assert search.get('test_dataloader') is None
    # the retrain config: the whole train split; scored on RoadScene-50
    genotype = bench.random_genotypes(spec, 1, seed=1000)[0]
    cfg = bench.retrain_config(spec, '/x/g.yaml', False)
    assert cfg.model.fusion_net.genotype == '/x/g.yaml'
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert sorted(train.get_data_info(i)['stem']
                  for i in range(len(train))) == _stems('train.txt')
    held = DATASETS.build(cfg.test_dataloader.dataset)
    assert sorted(held.get_data_info(i)['stem']
                  for i in range(len(held))) == sorted(test)
    assert osp.realpath(held.data_root) == osp.realpath(
        osp.join(shared_data, 'fusion', 'RoadScene'))
    # whole images, padded to the multi-scale cell's multiple of 4
    assert [t['type'] for t in cfg.test_dataloader.dataset.pipeline] == [
        'LoadPairedImages', 'PackFusionInputs']
    assert cfg.model.data_preprocessor.pad_size_divisor == 4
    assert cfg.train_cfg.val_begin > cfg.train_cfg.max_iters
    # the same losses at both levels of the search and in the retraining
    assert search.model.architecture.losses == cfg.model.losses
    # the random genotypes of the space are retrainable by this config
    assert genotype.network['channels'] == 16 == cfg.model.fusion_net.channels
    assert MODELS.build(dict(cfg.model.fusion_net, genotype=genotype))


TINY_SEARCH = [
    'train_dataloader.dataset.indices=4',
    'train_cfg.arch_dataloader.dataset.indices=4',
    'model.architecture.fusion_net.channels=4', 'train_cfg.max_epochs=1'
]
TINY_RETRAIN = [
    'model.fusion_net.channels=4', 'train_cfg.max_iters=2',
    'param_scheduler.0.T_max=2', 'test_dataloader.dataset.indices=1'
]


@pytest.mark.slow
def test_real_space_end_to_end_with_minimal_budgets(bench, shared_data,
                                                    tmp_path):
    """One search (4 pairs a half, one epoch), two uniform random genotypes
    and the size-matched draws of one match, each retrained for 2 steps at
    width 4 and scored on one whole RoadScene test image (odd sizes: the
    padding to a multiple of 4 and the crop back)."""
    out = tmp_path / 'result.json'
    record = tmp_path / 'record.json'
    cmd = [
        sys.executable,
        osp.join(REPO, 'benchmarks', 'bench_search_vs_random.py'),
        '--spaces', REAL, '--strategies', 'ias_paper', '--search-seeds', '1',
        '--num-random', '2', '--retrain-seeds', '1', '--match-size',
        'params', '--size-tolerance', '0.15', '--min-matched', '1',
        '--max-draws', '300', '--out', str(out), '--results-json',
        str(record), '--search-cfg-options', *TINY_SEARCH,
        '--retrain-cfg-options', *TINY_RETRAIN
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   [REPO, os.environ.get('PYTHONPATH', '')]))
    subprocess.run(cmd, check=True, env=env, cwd=str(tmp_path),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = json.loads(out.read_text())[REAL]
    match = res['size_match']
    searched = match['searched_size']['ias_paper s0']
    assert res['held_out_n'] == 1
    assert res['n_random'] == 2 and len(res['random_scores']) == 2
    assert res['ias_paper']['n_matched'] == [len(match['matched'][
        'ias_paper s0'])]
    assert res['ias_paper']['n_matched'][0] >= 1
    # the sizes matched before retraining are the retrained models' own
    assert res['ias_paper']['params'] == [searched]
    for label, params in match['extra_params'].items():
        i = int(label.split()[1])
        assert match['draw_sizes'][i] == params
        assert abs(params - searched) <= 0.15 * searched
    # rank among the matched ones, recomputed from their scores
    mine = res['ias_paper']['scores'][0]
    others = match['matched_scores']['ias_paper s0']
    better = sum(s > mine for s in others) + 0.5 * sum(
        s == mine for s in others)
    assert res['ias_paper']['matched_rank_pct'] == [
        100.0 * better / len(others)]
    rec = json.loads(record.read_text())
    table = rec['result'][f'{REAL}: RoadScene-50 test pairs (whole images)']
    assert table['ias_paper s0']['size-matched n'] == \
        res['ias_paper']['n_matched'][0]
    assert rec['control'][REAL] == res
    assert rec['command'].startswith(
        'python benchmarks/bench_search_vs_random.py --spaces ' + REAL)


def test_real_space_keeps_the_configs_weight_steps_per_arch_step(bench):
    """The real space searches with its config's T = 5 weight steps per α
    step (the budget its header states); the toy spaces take an α step
    after every weight step, except the implicit strategy (T = 5)."""
    spec = SPACES[REAL]
    for strategy in ('ias_paper', 'darts1'):
        cfg = bench.search_config(spec, strategy, quick=False)
        assert cfg.model.arch_update_interval == 5
        assert cfg.model.strategy == bench.STRATEGIES[strategy]
    toy = SPACES['tim_fusion']
    assert bench.search_config(toy, 'ias_paper',
                               quick=True).model.arch_update_interval == 1
    assert bench.search_config(toy, 'implicit',
                               quick=True).model.arch_update_interval == 5


# ------------------------------------------- searching until α separates
SEP = 'tim_fusion_roadscene221_separation'


def test_separation_space_is_the_real_space_run_until_alpha_separates(
        bench):
    """The real space's search (data halves, T = 5) with the content_ssim
    losses at both levels, an ArchSeparationHook (top-1 >= 1.5 x top-2 on
    every key, measured every epoch, stopping the search), a 20-epoch cap,
    both α levels searched in every epoch (so that every key the criterion
    reads can still move when it is measured) at α Adam 3e-2; retrained as
    the real space with the same losses."""
    spec, real = SPACES[SEP], SPACES[REAL]
    assert spec['real_data'] == real['real_data']
    content_ssim = Config.fromfile(osp.join(
        REPO, 'configs', '_base_', 'losses', 'content_ssim.py')).losses
    cfg = bench.search_config(spec, 'ias_paper', quick=False)
    base = bench.search_config(real, 'ias_paper', quick=False)
    assert cfg.train_cfg.max_epochs == 20
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert hooks['ArchSeparationHook'] == dict(
        type='ArchSeparationHook', ratio=1.5, interval=1, by_epoch=True,
        stop=True)
    assert [h['type'] for h in base.custom_hooks] == [
        t for t in hooks if t != 'ArchSeparationHook']
    # one stage from epoch 0 on training both levels: no key is frozen
    assert hooks['ArchScheduleHook']['stages'] == [
        dict(begin=0, levels=[0, 1])]
    assert {lv for st in base.custom_hooks[0]['stages']
            for lv in st['levels']} == {0, 1}
    assert cfg.optim_wrapper.arch.optimizer.lr == pytest.approx(
        10 * base.optim_wrapper.arch.optimizer.lr)
    cfg.optim_wrapper.arch.optimizer.lr = base.optim_wrapper.arch.optimizer.lr
    assert cfg.model.architecture.losses == content_ssim
    assert cfg.model.architecture.losses != base.model.architecture.losses
    cfg.model.architecture.losses = base.model.architecture.losses
    for key in ('model', 'train_dataloader', 'optim_wrapper'):
        assert cfg[key] == base[key], key
    assert cfg.train_cfg.arch_dataloader == base.train_cfg.arch_dataloader
    retrain = Config.fromfile(osp.join(REPO, spec['retrain']))
    retrain_base = Config.fromfile(osp.join(REPO, real['retrain']))
    assert retrain.model.losses == content_ssim
    for key in ('train_cfg', 'train_dataloader', 'val_dataloader',
                'optim_wrapper', 'param_scheduler'):
        assert retrain[key] == retrain_base[key], key


def test_separation_curve_read_from_the_genotype(bench, tmp_path):
    """The curve run_search stores in the searched genotype's meta is read
    back; a genotype without one (or no file) gives None."""
    from mmfusenas.models.mutables import Genotype
    curve = [dict(step=1, min_ratio=1.1, max_entropy=0.99,
                  mean_entropy=0.98, separated=False),
             dict(step=2, min_ratio=1.6, max_entropy=0.7, mean_entropy=0.6,
                  separated=True)]
    g = Genotype(choices={'a': 'conv'}, network={'type': 'Net'},
                 meta={'arch_separation': curve})
    g.dump(str(tmp_path / 'g.yaml'))
    assert bench.separation_curve(str(tmp_path / 'g.yaml')) == curve
    Genotype(choices={'a': 'conv'}, network={'type': 'Net'}).dump(
        str(tmp_path / 'h.yaml'))
    assert bench.separation_curve(str(tmp_path / 'h.yaml')) is None
    assert bench.separation_curve(str(tmp_path / 'none.yaml')) is None


def test_control_goal_by_hand(bench):
    """Reached only when every search seed's genotype (>= 2) ranks above
    the median of its size-matched random genotypes over >= 2 retrain
    seeds; the separation step of each search beside."""
    curve = [dict(step=3, min_ratio=1.2, separated=False),
             dict(step=4, min_ratio=1.7, separated=True)]
    res = {SEP: dict(default_strategy='ias_paper', ias_paper=dict(
        matched_rank_pct=[75.0, 62.5], searched_rank_pct=[10.0, 20.0],
        arch_separation=[curve, curve[:1]])),
        'settings': dict(retrain_seeds=2)}
    goal = bench.control_goal(res, [SEP])
    assert goal['reached'] is True
    v = goal['values'][SEP]
    assert v['rank_pct'] == [75.0, 62.5] and v['size_matched'] is True
    assert v['separated_at'] == [4, None]
    assert v['final_min_ratio'] == [1.7, 1.2]
    # the median itself is not above it
    res[SEP]['ias_paper']['matched_rank_pct'] = [75.0, 50.0]
    assert bench.control_goal(res, [SEP])['reached'] is False
    # one retrain seed: not decided
    res[SEP]['ias_paper']['matched_rank_pct'] = [75.0, 62.5]
    res['settings']['retrain_seeds'] = 1
    assert bench.control_goal(res, [SEP])['reached'] is False
    # one search seed: not decided
    res['settings']['retrain_seeds'] = 2
    res[SEP]['ias_paper']['matched_rank_pct'] = [75.0]
    assert bench.control_goal(res, [SEP])['reached'] is False
    # without size matching: ranked among all uniform draws
    res[SEP]['ias_paper'] = dict(searched_rank_pct=[60.0, 70.0])
    goal = bench.control_goal(res, [SEP])
    assert goal['reached'] is True
    assert goal['values'][SEP]['size_matched'] is False


def test_search_unit_keeps_the_separation_hook_and_resumes(bench, tmp_path,
                                                           monkeypatch):
    """A control's search unit keeps the config's ArchSeparationHook (its
    curve reaches the genotype's meta, one point per epoch) and checkpoints
    every epoch: run again with a larger cap, it resumes from the last
    epoch and continues the same curve instead of starting again."""
    init_default_scope('mmfusenas')
    monkeypatch.chdir(tmp_path)
    DATA['ivif'](str(tmp_path / 'data'), True, 8)
    spec = SPACES['tim_fusion']
    # the toy search's ArchLoggingHook (dropped by the unit) becomes an
    # ArchSeparationHook that never separates: the cap ends the search
    work = str(tmp_path / 'search')
    extra = {'train_cfg.max_epochs': 2,
             'custom_hooks.1': dict(type='ArchSeparationHook', ratio=1e6,
                                    interval=1, by_epoch=True, stop=True)}
    first = bench.run_search(spec, 'ias_paper', 0, work, True, extra)
    curve = first.meta['arch_separation']
    assert [pt['step'] for pt in curve] == [1, 2]
    assert not any(pt['separated'] for pt in curve)
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == [
        'epoch_2.pth']
    again = bench.run_search(spec, 'ias_paper', 0, work, True,
                             dict(extra, **{'train_cfg.max_epochs': 3}))
    longer = again.meta['arch_separation']
    assert [pt['step'] for pt in longer] == [1, 2, 3]
    assert longer[:2] == curve  # resumed: the first two epochs not rerun
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == [
        'epoch_3.pth']
