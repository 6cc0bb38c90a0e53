"""Protocol of projects/reproductions/bench_dcnas_control.py: deterministic legal
random draws, rank percentiles and the criterion on hand-made results."""
import argparse
import os
import os.path as osp

import numpy as np
import pytest

from mmfusenas.models.gisr import DCNASNet
from mmfusenas.models.mutables import Genotype
from mmfusenas.search.estimators import count_params
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    return load_tool('projects/reproductions/bench_dcnas_control.py')


def test_rank_pct_hand_values(bench):
    randoms = [1.0, 2.0, 3.0, 4.0]
    assert bench.rank_pct(0.5, randoms) == 100.0
    assert bench.rank_pct(2.5, randoms) == 50.0
    assert bench.rank_pct(2.0, randoms) == 62.5  # tie counts half
    assert bench.rank_pct(9.0, randoms) == 0.0


def test_random_draws_are_legal_distinct_and_deterministic(
        bench, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the LUT cache goes to work_dirs/
    budget = 2.5e5
    paths, costs = bench.random_legal_genotypes(4, budget, seed=7)
    again, _ = bench.random_legal_genotypes(4, budget, seed=7)
    other, _ = bench.random_legal_genotypes(4, budget, seed=8)
    assert paths == again and paths != other
    keys = {tuple(sorted(DCNASNet.canonical_path(p).items()))
            for p in paths}
    assert len(keys) == 4
    for p, c in zip(paths, costs):
        n = count_params(DCNASNet(p, num_features=8))
        assert n == c['params'] <= budget


def _geno(tmp_path, name, op):
    keys = bench_keys()
    arch = {k: ('cat' if k.startswith('fusion') else op) for k in keys}
    f = str(tmp_path / f'{name}.yaml')
    Genotype(choices=arch, network=dict(type='DCNASNet', num_features=8,
                                        arch=arch)).dump(f)
    return f


def bench_keys():
    from mmfusenas.models.gisr import dcnas_keys
    return dcnas_keys(4, 2)


def test_report_ranks_and_criterion(bench, tmp_path):
    # 2 searched, 4 random genotypes, 2 training seeds; RMSE values made up
    files = {'searched0': _geno(tmp_path, 's0', 'mb_k3_r2'),
             'searched1': _geno(tmp_path, 's1', 'mb_k3_r3')}
    for i, op in enumerate(['mb_k3_r4', 'mb_k5_r2', 'mb_k5_r3', 'skip']):
        files[f'random{i}'] = _geno(tmp_path, f'r{i}', op)
    rmse = {  # (seed 0, seed 1) on every test set
        'searched0': (1.0, 1.2),   # mean 1.1: better than every random
        'searched1': (2.6, 2.0),   # mean 2.3: between random1 and random2
        'random0': (1.5, 1.5), 'random1': (2.0, 2.2),
        'random2': (3.0, 3.0), 'random3': (4.0, 4.0)}
    runs = {}
    for n, (a, b) in rmse.items():
        for s, v in ((0, a), (1, b)):
            runs[(n, s)] = dict(toy=v, Middlebury=v, Lu=v, bicubic_toy=9.0,
                                bicubic_Middlebury=9.0, bicubic_Lu=9.0)
    args = argparse.Namespace(train_seeds=[0, 1], supernet=None, iters=1,
                              batch=8, patch=64, budget=3e5)
    res = bench.report(args, files, runs)
    g = res['genotypes']
    assert g['searched0']['rank_pct']['Lu'] == 100.0
    assert g['searched1']['rank_pct']['Lu'] == 50.0
    # per training seed: seed 0 2.6 beats 3.0, 4.0; seed 1 2.0 beats 2.2,
    # 3.0, 4.0
    assert g['searched1']['rank_pct_per_seed']['toy'] == [50.0, 75.0]
    assert g['searched1']['Middlebury'] == pytest.approx(2.3)
    # strictly above the median (50 %) needed in every search seed
    assert res['criterion_above_median_every_seed'] == dict(
        toy=False, Middlebury=False, Lu=False)
    assert g['random3']['params'] == count_params(
        DCNASNet(Genotype.load(files['random3']).choices, num_features=8))
    assert res['bicubic'] == dict(toy=9.0, Middlebury=9.0, Lu=9.0)


# ---------------------------------------------------------------- --device
# Golden of the code before --device existed (commit 70b9a0c, CPU): the
# network below retrained 4 iterations on a small toy folder standing in
# for the shared data. ``--device cpu`` must reproduce it exactly.
GOLDEN_CPU = dict(toy=28.053735745474143, Middlebury=280.5373574547414,
                  Lu=239.60076606668332, bicubic_Lu=238.93356315170956)


@pytest.fixture(scope='module')
def small_data(tmp_path_factory):
    """Toy data + a stand-in of ``../shared/data/gisr`` (toy splits linked
    as RGBDD_subset40 / Middlebury / Lu)."""
    import os
    from mmfusenas.testing.toy_data.rgbd import generate_toy_rgbd
    root = tmp_path_factory.mktemp('dcnas_small')
    toy, shared = root / 'toy', root / 'shared'
    generate_toy_rgbd(str(toy), 4, 2, 2, seed=3, size=64)
    shared.mkdir()
    for name, split in (('RGBDD_subset40', 'train'), ('Middlebury', 'test'),
                        ('Lu', 'val')):
        os.symlink(toy / split, shared / name)
    return str(toy), str(shared)


def _golden_net():
    import torch
    from mmfusenas.models.gisr import dcnas_keys
    arch = {k: ('cat' if k.startswith('fusion') else 'mb_k3_r2')
            for k in dcnas_keys(4, 2)}
    torch.manual_seed(5)
    return DCNASNet(arch, num_features=8)


@pytest.mark.parametrize('device', ['cpu', 'torch.device'])
def test_device_cpu_equals_the_code_before_device(bench, small_data, device):
    import torch
    from mmengine.registry import init_default_scope
    init_default_scope('mmfusenas')
    toy, shared = small_data
    dev = torch.device('cpu') if device == 'torch.device' else 'cpu'
    res = bench.retrain_and_evaluate(
        _golden_net(), toy, iters=4, batch=2, patch=32, seed=1, device=dev,
        shared=shared)
    for k in ('toy', 'Middlebury', 'Lu'):
        assert res[k]['RMSE'] == pytest.approx(GOLDEN_CPU[k], rel=1e-6)
    assert res['Lu']['bicubic_RMSE'] == pytest.approx(
        GOLDEN_CPU['bicubic_Lu'], rel=1e-9)


def test_worker_writes_device_and_runs_on_cpu(bench, small_data, tmp_path):
    import json
    import torch
    toy, shared = small_data
    geno = _geno(tmp_path, 'g', 'mb_k3_r2')
    out = str(tmp_path / 'run.json')
    bench.main(['--run-one', geno, '--seed', '1', '--out', out, '--iters',
                '2', '--batch', '2', '--patch', '32', '--toy', toy,
                '--shared-data', shared, '--device', 'cpu'])
    row = json.load(open(out))
    assert row['device'] == 'cpu' and row['torch'] == torch.__version__
    assert row['iters'] == 2 and row['seed'] == 1
    assert all(0 < row[k] < 1e4 for k in ('toy', 'Middlebury', 'Lu'))
    assert not osp.exists(out[:-5] + '.pid')
    # what the launcher compares before reusing the run
    assert row['options'] == bench.control_options(argparse.Namespace(
        lr=1e-3, batch=2, patch=32, toy=toy, shared_data=shared,
        device='cpu'), geno)
    assert not osp.exists(out[:-5] + '.options.json')


def test_launcher_passes_device_and_data_to_every_worker(bench):
    args = argparse.Namespace(nice=10, iters=300, batch=8, patch=64,
                              lr=1e-3, toy='/abs/toy', device='cuda',
                              shared_data='/abs/gisr')
    cmd = bench.worker_cmd('work_dirs/x/random3.yaml', 2,
                           'work_dirs/x/runs/random3_t2_i300.json', args)
    assert cmd[:3] == ['nice', '-n', '10']
    opts = dict(zip(cmd[5::2], cmd[6::2]))
    assert cmd[5] == '--run-one' and opts['--run-one'].endswith('3.yaml')
    assert opts['--device'] == 'cuda' and opts['--seed'] == '2'
    assert opts['--shared-data'] == '/abs/gisr'
    assert opts['--toy'] == '/abs/toy' and opts['--iters'] == '300'


def test_default_data_paths_resolve_from_the_repository(bench):
    assert bench.SHARED == osp.normpath(
        osp.join(REPO, '..', 'shared', 'data', 'gisr'))
    assert bench.ROOT == REPO


def test_bad_device_or_missing_data_fails_before_launching(
        bench, small_data, tmp_path):
    import torch
    toy, shared = small_data
    out = tmp_path / 'ctl'
    with pytest.raises(ValueError, match='--device must be cpu or cuda'):
        bench.main(['--device', 'mps', '--out-dir', str(out), '--toy', toy,
                    '--shared-data', shared])
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='--device cuda: CUDA is not'):
            bench.main(['--device', 'cuda', '--out-dir', str(out), '--toy',
                        toy, '--shared-data', shared])
    with pytest.raises(FileNotFoundError, match='--shared-data must be'):
        bench.main(['--out-dir', str(out), '--toy', toy, '--shared-data',
                    str(tmp_path / 'nowhere')])
    with pytest.raises(FileNotFoundError, match='make_toy_rgbd'):
        bench.check_data(str(tmp_path / 'notoy'), shared)
    assert not out.exists()  # nothing launched, nothing written


def test_report_names_each_training_seeds_device(bench, tmp_path):
    files = {'searched0': _geno(tmp_path, 's0', 'mb_k3_r2')}
    for i, op in enumerate(['mb_k3_r4', 'mb_k5_r2', 'mb_k5_r3']):
        files[f'random{i}'] = _geno(tmp_path, f'r{i}', op)
    runs = {}
    for n in files:
        for s in (0, 1, 2):
            row = dict(toy=1.0 + s, Middlebury=2.0, Lu=3.0, bicubic_toy=9.0,
                       bicubic_Middlebury=9.0, bicubic_Lu=9.0)
            if s == 2:  # seeds 0 / 1: runs written before --device existed
                row['device'] = 'cuda:0' if n != 'random2' else 'cpu'
            runs[(n, s)] = row
    args = argparse.Namespace(train_seeds=[0, 1, 2], supernet=None, iters=1,
                              batch=8, patch=64, budget=3e5)
    res = bench.report(args, files, runs)
    assert res['devices'] == {'0': ['cpu'], '1': ['cpu'],
                              '2': ['cpu', 'cuda:0']}
    assert res['genotypes']['searched0']['toy'] == pytest.approx(2.0)


def test_report_refuses_a_run_of_a_changed_genotype_file(
        bench, small_data, tmp_path, monkeypatch, capsys):
    """A stored run is keyed on the genotype file's content, not its path:
    the file rewritten since (a new search) makes the run stale -- an error
    naming it before anything is launched, left out by --report-only."""
    import json
    monkeypatch.chdir(tmp_path)  # the LUT cache goes to work_dirs/
    toy, shared = small_data
    searched = _geno(tmp_path, 'searched', 'mb_k3_r2')
    out = tmp_path / 'ctl'
    (out / 'runs').mkdir(parents=True)
    argv = ['--searched', searched, '--random', '3', '--train-seeds', '0',
            '--out-dir', str(out), '--toy', toy, '--shared-data', shared]
    args = argparse.Namespace(lr=1e-3, batch=8, patch=64, toy=toy,
                              shared_data=shared, device='cpu')
    options = bench.control_options(args, searched)
    row = dict(genotype=searched, seed=0, iters=300, params=12345, toy=1.0,
               Middlebury=1.0, Lu=1.0, bicubic_toy=2.0,
               bicubic_Middlebury=2.0, bicubic_Lu=2.0, options=options)
    (out / 'runs' / 'searched0_t0_i300.json').write_text(json.dumps(row))
    _geno(tmp_path, 'searched', 'mb_k5_r2')  # a new search rewrote it
    with pytest.raises(ValueError, match=r"searched0_t0_i300\.json was run "
                       r"with other options.*differ in \['genotype_sha256'"
                       r"\] \(the genotype file changed"):
        bench.main(argv)
    assert not list((out / 'runs').glob('*.log'))  # nothing launched
    runs = bench.main(argv + ['--report-only'])
    assert runs == {}  # left out, and named
    assert "searched0_t0_i300.json was run with other ['genotype_sha256']" \
        in capsys.readouterr().out


def test_control_runs_are_keyed_on_every_training_option(bench, tmp_path):
    """A control run records the genotype's sha256, --lr, --batch, --patch,
    --toy, --shared-data and --device (paths from the repository root on
    where they lie in or beside it): the same file is reused only under the
    same options, from any checkout."""
    import json
    geno = _geno(tmp_path, 'g', 'mb_k3_r2')
    args = argparse.Namespace(
        lr=1e-3, batch=8, patch=64, toy=osp.join(REPO, 'data', 'toy_rgbd'),
        shared_data=bench.SHARED, device='cpu')
    options = bench.control_options(args, geno)
    assert options['toy'] == '<repository>/data/toy_rgbd'
    assert options['shared_data'] == '<repository>/../shared/data/gisr'
    assert options['genotype_sha256'] == bench.file_sha256(geno)
    out = str(tmp_path / 'g_t0_i3.json')
    assert bench.stored_control_run(out, options) is None  # none yet
    with open(out, 'w') as f:
        json.dump(dict(genotype=geno, options=options, toy=1.0), f)
    assert bench.stored_control_run(out, options)['toy'] == 1.0
    for key, value in (('lr', 2e-3), ('batch', 4), ('patch', 32),
                       ('toy', str(tmp_path)), ('shared_data', str(tmp_path)),
                       ('device', 'cuda')):
        other = vars(args).copy()
        other[key] = value
        theirs = bench.control_options(argparse.Namespace(**other), geno)
        with pytest.raises(ValueError, match=rf"differ in \['{key}'\]"):
            bench.stored_control_run(out, theirs)
        assert bench.stored_control_run(out, theirs, report_only=True) \
            is None
    # a run from before options were recorded is not reused either
    with open(out, 'w') as f:
        json.dump(dict(genotype=geno, toy=1.0), f)
    with pytest.raises(ValueError, match='was run with other options'):
        bench.stored_control_run(out, options)


def test_real_runs_key_on_the_genotype_content_and_shared_data(
        bench, tmp_path):
    """--mode real: a stored run is reused for the same genotype content
    (another path of it too) and --shared-data, not after either changed."""
    import json
    geno = _geno(tmp_path, 'g', 'mb_k3_r2')
    args = argparse.Namespace(genotype=geno, iters=2, batch=2, patch=32,
                              lr=1e-3, seed=0, shared_data=str(tmp_path),
                              out_dir=str(tmp_path), report_only=True)
    opts = bench.real_options(args)
    assert 'genotype' not in opts
    (tmp_path / 'hand_x4.json').write_text(json.dumps(dict(
        options=opts, name='hand', scale=4)))
    copy = tmp_path / 'copy.yaml'
    copy.write_text(open(geno).read())
    assert bench.real_run('hand', 4, argparse.Namespace(
        **dict(vars(args), genotype=str(copy))))['name'] == 'hand'
    other = tmp_path / 'other'
    other.mkdir()
    assert bench.real_run('hand', 4, argparse.Namespace(
        **dict(vars(args), shared_data=str(other)))) is None
    _geno(tmp_path, 'g', 'mb_k5_r2')
    assert bench.real_run('hand', 4, args) is None
    with pytest.raises(ValueError, match='hand_x4.json was run with other'):
        bench.real_run('hand', 4, argparse.Namespace(
            **dict(vars(args), report_only=False)))


# --------------------------------------------------------------- --mode real
GISR = osp.join(osp.dirname(REPO), 'shared', 'data', 'gisr')
needs_gisr = pytest.mark.skipif(
    not all(osp.isdir(osp.join(GISR, d))
            for d in ('RGBDD_subset40', 'Middlebury', 'Lu')),
    reason='../shared/data/gisr not available')


@needs_gisr
def test_real_training_pairs_are_not_test_images():
    """The 40 RGB-D-D training pairs against the Middlebury (30) and Lu (6)
    test images: no exact or near-duplicate guidance image (grey-thumbnail
    correlation distance, the fusion splits' measure and threshold), and
    the measure does flag a test image put among them."""
    import cv2
    from mmfusenas.datasets.real_fusion_splits import (NEAR_DUP_THRESHOLD,
                                                        thumbnail)

    def thumbs(name):
        folder = osp.join(GISR, name, 'RGB')
        files = sorted(os.listdir(folder))
        return np.stack([thumbnail(cv2.imread(osp.join(folder, f)))
                         for f in files])

    train = thumbs('RGBDD_subset40')
    assert len(train) == 40
    for test in ('Middlebury', 'Lu'):
        t = thumbs(test)
        dist = 1 - train @ t.T / t.shape[1]
        assert dist.min() > NEAR_DUP_THRESHOLD, (test, dist.min())
        planted = np.concatenate([train, t[:1]])
        assert (1 - planted @ t.T / t.shape[1]).min() < 1e-9


def test_real_record_ranks_rmse_by_hand(bench):
    runs = {
        ('searched', 4): dict(name='S', params=10, Middlebury=dict(
            RMSE=1.5, bicubic_RMSE=2.0), Lu=dict(RMSE=1.9, bicubic_RMSE=2.1)),
        ('hand', 4): dict(name='H', params=11, Middlebury=dict(
            RMSE=1.6, bicubic_RMSE=2.0), Lu=dict(RMSE=1.8, bicubic_RMSE=2.1)),
    }
    tables = bench.real_record(runs, argparse.Namespace(scales=[4, 8]),
                               {'Middlebury': 30, 'Lu': 6})
    assert list(tables) == ['Middlebury x4 (8-bit levels)',
                            'Lu x4 (8-bit levels)']
    mid = tables['Middlebury x4 (8-bit levels)']
    assert [mid[m]['rank']['RMSE'] for m in ('S', 'H', 'bicubic')] == \
        [1, 2, 3]
    assert mid['bicubic'] == dict(RMSE=2.0, params=0, pairs=30,
                                  rank=dict(RMSE=3))
    lu = tables['Lu x4 (8-bit levels)']
    assert lu['H']['rank']['RMSE'] == 1 and lu['S']['pairs'] == 6


@needs_gisr
def test_real_networks_sizes(bench, tmp_path):
    """official = the StaticModel example (544,981 params at C=16); hand =
    uniform blocks at the searched network's size."""
    g = _geno(tmp_path, 'g', 'mb_k5_r4')
    nets = bench.real_networks(g)
    assert count_params(nets['official'][1]) == 544981
    n_s, n_h = (count_params(nets[k][1]) for k in ('searched', 'hand'))
    assert abs(n_h - n_s) / n_s < 0.25
    assert nets['hand'][0].startswith('hand-designed (all mb_k3_r')
    # the guidance-free hand-designed network: every RGB stage pruned
    hd = nets['hand_depth'][1]
    assert abs(count_params(hd) - n_s) / n_s < 0.25
    assert 'no guidance' in nets['hand_depth'][0]
    assert set(bench.baseline_arch(n_s, 8, 'skip_rgb')[0][f'fusion.{i}']
               for i in range(4)) == {'skip_rgb'}


def _real_run(name, mid, lu, train_s=1.0):
    return dict(name=name, params=10, train_s=train_s,
                Middlebury=dict(RMSE=mid, bicubic_RMSE=2.0),
                Lu=dict(RMSE=lu, bicubic_RMSE=2.1))


def test_real_seeds_merge_and_goal_by_hand(bench):
    """Rows average over the seeds they ran (spread and seeds beside); the
    goal needs >= 2 seeds of searched, hand and hand_depth and the searched
    network at or below both hand-designed ones on every table."""
    per_seed = {
        0: {('searched', 4): _real_run('S', 1.0, 2.0, 4.0),
            ('hand', 4): _real_run('H', 1.2, 2.2),
            ('hand_depth', 4): _real_run('D', 1.1, 2.5),
            ('official', 4): _real_run('O', 0.9, 1.9)},
        1: {('searched', 4): _real_run('S', 1.4, 2.0, 6.0),
            ('hand', 4): _real_run('H', 1.2, 2.4),
            ('hand_depth', 4): _real_run('D', 1.3, 2.5)},
    }
    runs = bench.merge_real_seeds(per_seed)
    s = runs[('searched', 4)]
    assert s['seeds'] == [0, 1] and s['train_s'] == 5.0
    assert s['Middlebury']['RMSE'] == pytest.approx(1.2)
    assert s['Middlebury']['RMSE_std'] == pytest.approx(0.2)
    assert s['Middlebury']['per_seed'] == {'0': 1.0, '1': 1.4}
    assert runs[('official', 4)]['seeds'] == [0]
    tables = bench.real_record(runs, argparse.Namespace(scales=[4]),
                               {'Middlebury': 30, 'Lu': 6})
    mid = tables['Middlebury x4 (8-bit levels)']
    assert mid['S']['RMSE_std'] == 0.2 and mid['S']['seeds'] == 2
    assert 'seeds' not in mid['O']  # one seed: no spread column
    goal = bench.real_goal(runs, [4])
    # Middlebury: a tie with both (1.2) counts (<=)
    assert goal['values']['Middlebury x4'] == dict(
        searched=1.2, hand=1.2, hand_depth=1.2, searched_best=True)
    assert goal['values']['Lu x4'] == dict(
        searched=2.0, hand=2.3, hand_depth=2.5, searched_best=True)
    assert goal['reached'] is True
    # worse than hand_depth on one table: not reached
    per_seed[1][('hand_depth', 4)] = _real_run('D', 0.5, 2.5)
    goal = bench.real_goal(bench.merge_real_seeds(per_seed), [4])
    assert goal['values']['Middlebury x4']['searched_best'] is False
    assert goal['reached'] is False
    # one seed only: not decided
    goal = bench.real_goal(bench.merge_real_seeds({0: per_seed[0]}), [4])
    assert goal['values']['Lu x4']['searched'] is None
    assert goal['reached'] is False


def test_rgbdd_search_split_is_a_day_split():
    """The real-data search's halves: 32 + 8 of the 40 RGB-D-D pairs,
    disjoint, the 8 scored pairs from a capture day the 32 do not share."""
    split = osp.join(REPO, 'configs', '_base_', 'datasets', 'splits',
                     'rgbdd40')

    def ids(name):
        with open(osp.join(split, name)) as f:
            return [ln.strip() for ln in f if ln.strip()]

    train, val = ids('search_train.txt'), ids('search_val.txt')
    assert len(train) == 32 and len(val) == 8
    assert not set(train) & set(val)
    assert {i[:8] for i in train}.isdisjoint({i[:8] for i in val})
    if osp.isdir(osp.join(GISR, 'RGBDD_subset40')):
        stems = {f.split('_')[0] for f in os.listdir(
            osp.join(GISR, 'RGBDD_subset40', 'Depth'))}
        assert stems == set(train) | set(val)


def test_real_report_reads_each_seed_folder(bench, tmp_path, capsys):
    """``--report-only --seeds 0 1`` reads ``<out-dir>/seed_<s>/`` (the
    runs' options must match), averages each row over the seeds it ran and
    names the run that is missing."""
    import json
    if not osp.isdir(bench.SHARED):
        pytest.skip(f'real depth data absent: {bench.SHARED}')
    geno = osp.join(REPO, 'configs/dcnas/genotypes/dcnas_rgbdd_x4_s0.yaml')
    rmse = {('searched', 0): 1.0, ('searched', 1): 1.4, ('hand', 0): 1.5,
            ('hand', 1): 1.7, ('hand_depth', 0): 1.3, ('hand_depth', 1): 1.3,
            ('official', 0): 1.1}
    for (key, seed), v in rmse.items():
        run = _real_run(key, v, v + 1, train_s=2.0)
        run.update(scale=4, options=bench.real_options(argparse.Namespace(
            genotype=geno, iters=1000, batch=8, patch=64, lr=1e-3,
            seed=seed, shared_data=bench.SHARED)))
        os.makedirs(tmp_path / f'seed_{seed}', exist_ok=True)
        (tmp_path / f'seed_{seed}' / f'{key}_x4.json').write_text(
            json.dumps(run))
    result = bench.main_real([
        '--genotype', geno, '--scales', '4', '--iters', '1000', '--seeds',
        '0', '1', '--out-dir', str(tmp_path), '--report-only'])
    assert '[official x4] seed 1 not run yet' in capsys.readouterr().out
    mid = result['tables']['Middlebury x4 (8-bit levels)']
    assert mid['searched']['RMSE'] == 1.2 and mid['searched']['seeds'] == 2
    assert mid['hand']['RMSE'] == 1.6 and mid['official']['RMSE'] == 1.1
    assert result['seeds']['official_x4'] == [0]
    assert result['goal']['values']['Lu x4'] == dict(
        searched=2.2, hand=2.6, hand_depth=2.3, searched_best=True)
    assert result['goal']['reached'] is True
    # the official rows from the committed record of the same budget
    record = osp.join(REPO, 'docs/results/dcnas_real.json')
    argv = ['--genotype', geno, '--scales', '4', '--iters', '1000',
            '--seeds', '0', '1', '--out-dir', str(tmp_path), '--report-only',
            '--merge', record]
    with pytest.raises(SystemExit):  # official both trained and merged
        bench.main_real(argv)
    out = tmp_path / 'record.json'
    result = bench.main_real(argv + ['--models', 'searched', 'hand',
                                     'hand_depth', '--results-json',
                                     str(out)])
    written = json.loads(out.read_text())
    # the command reruns the same mode, and the record names the merged one
    assert written['command'].startswith(
        'python projects/reproductions/bench_dcnas_control.py --mode real '
        '--genotype ')
    assert written['merged']['record'] == record
    assert written['goal'] == result['goal']
    official = json.load(open(record))['RESULT']['tables']
    name = 'official StaticModel example (C=16)'
    for title, rows in result['tables'].items():
        assert rows[name]['RMSE'] == official[title][name]['RMSE']
        for r in rows.values():  # 1 + the rows strictly lower
            assert r['rank']['RMSE'] == 1 + sum(
                q['RMSE'] < r['RMSE'] for q in rows.values())
    assert result['merged']['models'] == ['official']
    assert 'official_x4' not in result['seeds']


def test_real_merge_rows_of_an_earlier_record(bench, tmp_path):
    """``--merge``: the named rows of an earlier record of the same budget
    join the tables and every row is ranked again; another budget, a
    missing row or another pair count is refused by name."""
    import json
    tables = {'Lu x4 (8-bit levels)': {
        'bicubic': dict(RMSE=2.4, params=0, pairs=6),
        'S': dict(RMSE=1.2, params=10, pairs=6)}}
    record = dict(command='python bench --mode real', commit='abc',
                  note='Trained 1000 iterations (batch 8, 64² patches, Adam '
                  '0.001) on the 40 RGB-D-D pairs only.',
                  RESULT=dict(iters=1000, tables={'Lu x4 (8-bit levels)': {
                      'bicubic': dict(RMSE=2.4, params=0, pairs=6,
                                      rank=dict(RMSE=3)),
                      'O': dict(RMSE=1.1, params=5, pairs=6,
                                rank=dict(RMSE=1))}}))
    path = tmp_path / 'rec.json'
    path.write_text(json.dumps(record))
    args = argparse.Namespace(iters=1000, batch=8, patch=64, lr=1e-3)
    merged = bench.merge_real_rows(tables, str(path), {'official': 'O'},
                                   args)
    assert merged == dict(record=str(path), command='python bench --mode '
                          'real', commit='abc')
    lu = tables['Lu x4 (8-bit levels)']
    assert lu['O'] == dict(RMSE=1.1, params=5, pairs=6, rank=dict(RMSE=1))
    assert lu['S']['rank'] == dict(RMSE=2)
    assert lu['bicubic']['rank'] == dict(RMSE=3)
    lu['S']['RMSE'] = 1.1  # a tie with the merged row shares rank 1
    bench.merge_real_rows(tables, str(path), {'official': 'O'}, args)
    assert [lu[m]['rank']['RMSE'] for m in ('O', 'S', 'bicubic')] == [1, 1, 3]
    with pytest.raises(ValueError, match='trained 1000 iterations'):
        bench.merge_real_rows(tables, str(path), {'official': 'O'},
                              argparse.Namespace(iters=500, batch=8,
                                                 patch=64, lr=1e-3))
    with pytest.raises(ValueError, match='trained 1000 iterations'):
        bench.merge_real_rows(tables, str(path), {'official': 'O'},
                              argparse.Namespace(iters=1000, batch=4,
                                                 patch=64, lr=1e-3))
    with pytest.raises(ValueError, match="no row 'X'"):
        bench.merge_real_rows(tables, str(path), {'hand': 'X'}, args)
    record['RESULT']['tables']['Lu x4 (8-bit levels)']['O']['pairs'] = 5
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match='counts 5 pairs'):
        bench.merge_real_rows(tables, str(path), {'official': 'O'}, args)


def test_a_damaged_run_file_is_named(bench, tmp_path, capsys):
    out = tmp_path / 'run.json'
    out.write_text('{"options": ')
    assert bench.stored_control_run(str(out), {}, report_only=True) is None
    assert f'{out} is damaged (not valid JSON' in capsys.readouterr().out
    with pytest.raises(ValueError, match=f'{out} is damaged'):
        bench.stored_control_run(str(out), {})
