"""benchmarks/bench_config_seeds.py: whole configs compared over seeds
(option checks, the aggregation by hand, the validation recorder, one real
run of two toy detector configs)."""
import glob
import json
import os
import os.path as osp
import types

import pytest
import torch

from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FPN = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_fpn_toy.py')
SEARCHED = osp.join(REPO, 'configs', 'tim',
                    'retinanet_ivif_toy.py')


@pytest.fixture(scope='module')
def bench():
    return load_tool('benchmarks/bench_config_seeds.py')


def args_of(bench, *argv):
    args = bench.parse_args(list(argv))
    return args, bench.check_args(args)


# ------------------------------------------------------------------ parsing
def test_variants_keep_their_order_and_become_absolute(bench):
    args, variants = args_of(
        bench, '--variants', f'searched={SEARCHED}', f'fpn={FPN}',
        '--metrics', 'coco/bbox_mAP', '--seeds', '2', '0',
        '--variant-cfg-options', 'fpn:model.detector.neck.out_channels=32',
        'fpn:train_cfg.max_iters=5', 'searched:a.b=[1,2]')
    assert list(variants) == ['searched', 'fpn']
    assert variants['fpn'] == FPN and variants['searched'] == SEARCHED
    assert args.seeds == [2, 0]
    # values parsed as --cfg-options parses them
    assert args.variant_opts == {
        'fpn': {'model.detector.neck.out_channels': 32,
                'train_cfg.max_iters': 5},
        'searched': {'a.b': [1, 2]}}


@pytest.mark.parametrize('argv, error, match', [
    (['--variants', FPN], ValueError, 'expected label=path'),
    (['--variants', f'={FPN}'], ValueError, 'expected label=path'),
    (['--variants', 'a/b=' + FPN], ValueError, "label 'a/b' names a folder"),
    (['--variants', f'seeds={FPN}'], ValueError, 'key of the result'),
    (['--variants', f'x={FPN}', f'x={SEARCHED}'], ValueError,
     "'x' is given twice"),
    (['--variants', 'x=configs/none/missing.py'], FileNotFoundError,
     'missing.py'),
    (['--metrics', 'm'], ValueError, 'at least one label=config'),
    (['--variants', f'x={FPN}', '--variant-cfg-options', 'y:a=1'],
     ValueError, "'y' is no variant; the variants are \\['x'\\]"),
    (['--variants', f'x={FPN}', '--variant-cfg-options', 'x=1'],
     ValueError, 'expected label:key=value'),
    (['--variants', f'x={FPN}', '--variant-cfg-options', 'x:a'],
     ValueError, 'expected label:key=value'),
])
def test_bad_options_are_errors_naming_the_option(bench, argv, error, match):
    if '--metrics' not in argv:
        argv = argv + ['--metrics', 'coco/bbox_mAP']
    with pytest.raises(error, match=match):
        args_of(bench, *argv)


@pytest.mark.parametrize('extra, match', [
    ([], '--metrics: name at least one'),
    (['--metrics', 'a', 'a'], 'repeated'),
    (['--metrics', 'a', '--seeds', '1', '1'], 'distinct seeds'),
    (['--metrics', 'a', '--jobs', '0'], '--jobs must be >= 1'),
    (['--metrics', 'a', '--threads', '0'], '--threads must be >= 1'),
])
def test_bad_numbers_and_metrics(bench, extra, match):
    with pytest.raises(ValueError, match=match):
        args_of(bench, '--variants', f'x={FPN}', *extra)
    with pytest.raises(FileNotFoundError, match='--data-root'):
        args_of(bench, '--variants', f'x={FPN}', '--metrics', 'a',
                '--data-root', '/no/such/folder')


def test_plan_merges_common_then_variant_options(bench, tmp_path):
    args, variants = args_of(
        bench, '--variants', f'fpn={FPN}', f'searched={SEARCHED}',
        '--metrics', 'm', '--seeds', '0', '3', '--cfg-options',
        'train_cfg.max_iters=7', 'a=(1,2)', '--variant-cfg-options',
        'searched:train_cfg.max_iters=9', '--threads', '2')
    units = bench.plan_units(variants, args, str(tmp_path))
    assert [u['id'] for u in units] == [
        'fpn_seed0', 'fpn_seed3', 'searched_seed0', 'searched_seed3']
    # the variant's own option wins; tuples as a worker reads them (lists)
    assert units[0]['cfg_options'] == {'train_cfg.max_iters': 7,
                                       'a': [1, 2]}
    assert units[2]['cfg_options'] == {'train_cfg.max_iters': 9,
                                       'a': [1, 2]}
    assert units[3]['work_dir'] == str(tmp_path / 'searched' / 'seed_3')
    assert units[3]['result'] == str(tmp_path / 'searched' / 'seed_3' /
                                     'result.json')
    assert units[1]['seed'] == 3 and units[1]['threads'] == 2
    assert units[1]['config'] == FPN and units[1]['metrics'] == ['m']


def test_variant_env_reaches_the_unit_and_its_reuse_key(bench, tmp_path):
    args, variants = args_of(
        bench, '--variants', f'fast={FPN}', f'aten={FPN}', '--metrics', 'm',
        '--seeds', '0', '--variant-env', 'aten:MALLOC_ARENA_MAX=2')
    units = bench.plan_units(variants, args, str(tmp_path))
    assert [u['env'] for u in units] == [{}, {'MALLOC_ARENA_MAX': '2'}]
    # a stored result of the other environment is not reused silently
    os.makedirs(osp.dirname(units[1]['result']))
    with open(units[1]['result'], 'w') as f:
        json.dump(dict(config=FPN, cfg_options={}, env={}, seed=0), f)
    with pytest.raises(ValueError, match='--reuse'):
        bench.reusable_result(units[1])
    for bad, match in (('aten:=1', 'label:key=value'),
                       ('nobody:X=1', 'no variant')):
        with pytest.raises(ValueError, match=match):
            bench.parse_variant_env([bad], ['fast', 'aten'])


# -------------------------------------------------------------- aggregation
def unit_result(metrics, params=None, seconds=1.0):
    return dict(metrics=metrics, params=params or {'model': 10},
                config='c.py', cfg_options={}, seconds=seconds)


def test_aggregate_by_hand(bench):
    results = {
        'a': {0: unit_result({'m': 0.1, 'n': 1.0}),
              1: unit_result({'m': 0.3, 'n': 2.0}),
              2: unit_result({'m': 0.2, 'n': 3.0})},
        'b': {0: unit_result({'m': 0.4, 'n': 1.0}, {'model': 12}, 2.0),
              1: unit_result({'m': 0.4, 'n': 5.0}, {'model': 12}, 3.0),
              2: unit_result({'m': 0.1, 'n': 3.0}, {'model': 12}, 4.0)},
    }
    s = bench.aggregate(results, ['a', 'b'], [0, 1, 2], ['m', 'n'])
    assert s['a']['m']['per_seed'] == [0.1, 0.3, 0.2]
    assert s['a']['m']['mean'] == pytest.approx(0.2)
    # population std: sqrt(((-0.1)^2 + 0.1^2 + 0) / 3)
    assert s['a']['m']['std'] == pytest.approx((0.02 / 3)**0.5)
    assert 'diff' not in s['a']['m']
    # b - a per seed: +0.3, +0.1, -0.1 -> mean 0.1, pop. std sqrt(0.08/3)
    d = s['b']['m']['diff']
    assert d['per_seed'] == pytest.approx([0.3, 0.1, -0.1])
    assert d['mean'] == pytest.approx(0.1)
    assert d['std'] == pytest.approx((0.08 / 3)**0.5)
    assert s['b']['m']['mean'] - s['a']['m']['mean'] == pytest.approx(0.1)
    # n: a = 1, 2, 3 (mean 2, std sqrt(2/3)); b - a = 0, 3, 0
    assert s['a']['n']['std'] == pytest.approx((2 / 3)**0.5)
    assert s['b']['n']['diff']['mean'] == pytest.approx(1.0)
    assert s['b']['n']['diff']['std'] == pytest.approx(2**0.5)
    assert s['b']['params'] == {'model': 12}
    assert s['b']['unit_seconds'] == [2.0, 3.0, 4.0]
    # the seeds' order is the table's order
    s2 = bench.aggregate(results, ['a', 'b'], [2, 0], ['m'])
    assert s2['a']['m']['per_seed'] == [0.2, 0.1]
    table = bench.format_table(s, ['a', 'b'], [0, 1, 2], ['m', 'n'])
    rows = [r for r in table.split('\n') if r.startswith('| ')]
    cells = [[c.strip() for c in r.strip('|').split('|')] for r in rows]
    assert cells[0][:2] == ['variant', 'params']
    assert cells[0][2:7] == ['m s0', 'm s1', 'm s2', 'm mean ± std',
                             'm Δ vs a']
    assert cells[1][2:7] == ['0.1000', '0.3000', '0.2000',
                             '0.2000 ± 0.0816', '-']
    assert cells[2][0] == 'b' and cells[2][1] == 'model 0.000M'
    assert cells[2][6] == '+0.1000 ± 0.1633'
    assert cells[2][11] == '+1.0000 ± 1.4142'


def test_a_missing_metric_names_the_keys_present(bench):
    results = {'a': {0: unit_result({'fusion/EN': 6.0, 'coco/x': 0.1})}}
    with pytest.raises(KeyError, match=r"\['coco/bbox_mAP'\].*variant a "
                       r"seed 0|variant a seed 0.*\['coco/bbox_mAP'\]"):
        bench.aggregate(results, ['a'], [0], ['coco/bbox_mAP'])
    with pytest.raises(KeyError, match=r"reported \['coco/x', 'fusion/EN'\]"):
        bench.pick_metrics({'fusion/EN': 6.0, 'coco/x': 0.1},
                           ['fusion/EN', 'coco/bbox_mAP'], 'here')


# ----------------------------------------------------------------- the hook
def test_recorder_keeps_every_validation_with_its_iteration(bench):
    hook = bench.ValMetricsRecorder()
    runner = types.SimpleNamespace(iter=100, epoch=0)
    hook.after_val_epoch(runner, {'coco/bbox_mAP': torch.tensor(0.25),
                                  'fusion/EN': 6.5})
    runner.iter, runner.epoch = 200, 1
    hook.after_val_epoch(runner, {'coco/bbox_mAP': 0.5, 'note': 'x'})
    hook.after_val_epoch(runner, None)  # a validation without metrics
    assert hook.records == [
        dict(iter=100, epoch=0,
             metrics={'coco/bbox_mAP': 0.25, 'fusion/EN': 6.5}),
        dict(iter=200, epoch=1, metrics={'coco/bbox_mAP': 0.5, 'note': 'x'}),
        dict(iter=200, epoch=1, metrics={}),
    ]
    assert type(hook.records[0]['metrics']['coco/bbox_mAP']) is float
    json.dumps(hook.records)  # what the unit writes


def test_count_params_of_the_model_and_its_parts(bench):
    model = torch.nn.Module()
    model.detector = torch.nn.Module()
    model.detector.neck = torch.nn.Linear(3, 2)  # 8 parameters
    model.head = torch.nn.Linear(2, 1)  # 3
    assert bench.count_params(model, None) == {'model': 11,
                                               'detector.neck': 8}
    assert bench.count_params(model, ['head']) == {'model': 11, 'head': 3}
    # the default path is reported absent; a path asked for is an error
    assert bench.count_params(model.head, None) == {
        'model': 3, 'detector.neck': None}
    with pytest.raises(AttributeError, match=r"--count-params detector.x.*"
                       r"\['detector', 'head'\]"):
        bench.count_params(model, ['detector.x'])


# --------------------------------------------------------- one real run
def test_two_toy_detector_configs_end_to_end(bench, tmp_path, monkeypatch):
    """fpn vs searched neck (FusionDetector: N_F + RetinaNet R18), one seed,
    2 iterations with a validation at the end, in this process."""
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    generate_toy_dataset(str(tmp_path / 'toy'), num=8, seed=0, size=64,
                         val_fraction=0.25)
    monkeypatch.chdir(tmp_path)
    work, out = tmp_path / 'work', tmp_path / 'result.json'
    result = bench.main([
        '--variants', f'fpn={FPN}', f'searched={SEARCHED}', '--seeds', '0',
        '--metrics', 'fusion/EN', 'fusion/SSIM', '--data-root',
        str(tmp_path / 'toy'), '--work-dir', str(work), '--out', str(out),
        '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'train_dataloader.batch_size=2', 'val_dataloader.batch_size=2',
        '--variant-cfg-options', 'searched:model.detector.neck.'
        'out_channels=16', 'searched:model.detector.bbox_head.in_channels=16'
    ])
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert result['seeds'] == [0]
    assert result['metrics'] == ['fusion/EN', 'fusion/SSIM']
    assert result['searched']['cfg_options'][
        'model.detector.neck.out_channels'] == 16
    assert result['fpn']['config'] == FPN
    for label in ('fpn', 'searched'):
        # the unit's own result file: every validation with its iteration
        unit = json.loads(
            (work / label / 'seed_0' / 'result.json').read_text())
        assert unit['seed'] == 0 and unit['iter'] == 2
        assert [v['iter'] for v in unit['validations']] == [2]
        # what --reuse compares: the config's content, the data root
        assert unit['config_sha256'] == bench.config_sha256(
            FPN if label == 'fpn' else SEARCHED, unit['cfg_options'])
        assert unit['data_root'] == str(tmp_path / 'toy')
        assert unit['metrics']['fusion/EN'] == result[label]['fusion/EN'][
            'per_seed'][0]
        scalars = glob.glob(str(work / label / 'seed_0' / '*' / 'vis_data' /
                                'scalars.json'))
        assert len(scalars) == 1, scalars
        logged = [json.loads(line) for line in open(scalars[0])]
        logged = [r for r in logged if 'fusion/EN' in r]
        assert len(logged) == 1  # one validation, at iteration 2
        for m in ('fusion/EN', 'fusion/SSIM'):
            r = result[label][m]
            # the recorded metric is the run's own logged value
            assert r['per_seed'] == [logged[0][m]]
            assert r['mean'] == logged[0][m] and r['std'] == 0.0
        assert result[label]['params']['model'] > \
            result[label]['params']['detector.neck'] > 0
    # the neck at 16 channels is a different detector ...
    assert result['searched']['params'] != result['fpn']['params']
    # ... but after 2 iterations of the 50-iteration fusion warm-up
    # (FusionWarmupHook: N_F alone trains) seed 0 gave both the same N_F,
    # hence the same fused images
    for m in ('fusion/EN', 'fusion/SSIM'):
        assert result['searched'][m]['diff'] == dict(
            per_seed=[0.0], mean=0.0, std=0.0)


@pytest.mark.slow
def test_workers_give_the_inline_results_and_failures_stop_the_run(
        bench, tmp_path, monkeypatch):
    """--jobs 2 (worker processes) == --jobs 1 (this process), per seed;
    a failing worker stops the benchmark with the end of its log."""
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    generate_toy_dataset(str(tmp_path / 'toy'), num=8, seed=0, size=64,
                         val_fraction=0.25)
    monkeypatch.chdir(tmp_path)

    def run(work, metric='fusion/EN', jobs=1):
        return bench.main([
            '--variants', f'fpn={FPN}', '--seeds', '0', '1', '--metrics',
            metric, '--data-root', str(tmp_path / 'toy'), '--cfg-options',
            'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'train_dataloader.batch_size=2', 'val_dataloader.batch_size=2',
            '--work-dir', str(tmp_path / work), '--jobs', str(jobs)])

    one, two = run('w1'), run('w2', jobs=2)
    assert two['fpn']['fusion/EN'] == one['fpn']['fusion/EN']
    assert one['fpn']['fusion/EN']['std'] > 0  # the seeds differ
    unit = json.loads((tmp_path / 'w2' / 'fpn' / 'seed_1' /
                       'result.json').read_text())
    assert unit['seed'] == 1 and unit['iter'] == 2
    assert (tmp_path / 'w2' / 'fpn' / 'seed_1' / 'unit.log').exists()
    with pytest.raises(RuntimeError, match=r"variant fpn seed [01] failed "
                       r"(.|\n)*'coco/nothing'(.|\n)*fusion/EN"):
        run('w3', metric='coco/nothing', jobs=2)


# ------------------------------------------------------------ --fit-width
def test_fit_width_takes_the_largest_width_within_the_reference_cost(bench):
    """The searched toy neck (its committed genotype) within the FPN's
    FLOPs at 128 px: width 24 (0.562 vs 0.671 GFLOPs; 32 would cost 0.681,
    test_task_guided_training); with the parameter cap too: 16 (at 24 the
    detector has 256 parameters more than the FPN's 1,040,832)."""
    argv = ['--variants', f'fpn={FPN}', f'searched={SEARCHED}',
            '--metrics', 'coco/bbox_mAP', '--fit-width', 'searched',
            '--fit-widths', '32', '24', '16']
    args, variants = args_of(bench, *argv)
    assert bench.fit_widths(variants, args) == {'searched': 24}
    assert args.variant_opts['searched'] == {
        'model.detector.neck.out_channels': 24,
        'model.detector.bbox_head.in_channels': 24}
    args, variants = args_of(bench, *argv, '--fit-cap', 'gflops', 'params_m')
    assert bench.fit_widths(variants, args) == {'searched': 16}
    # nothing to fit: no config is built
    args, variants = args_of(bench, '--variants', f'fpn={FPN}',
                             '--metrics', 'm')
    assert bench.fit_widths(variants, args) == {}


@pytest.mark.parametrize('extra, match', [
    (['--fit-width', 'other'], "'other' is no variant"),
    (['--fit-width', 'fpn'], 'cannot be fitted to its own cost'),
    (['--fit-width', 'searched', '--fit-ref', 'searched'],
     'cannot be fitted to its own cost'),
    (['--fit-width', 'searched', '--fit-widths', '0'], 'positive widths'),
])
def test_fit_width_errors_name_the_option(bench, extra, match):
    with pytest.raises(ValueError, match=match):
        args_of(bench, '--variants', f'fpn={FPN}', f'searched={SEARCHED}',
                '--metrics', 'm', *extra)


def test_fit_width_fails_when_no_width_fits(bench):
    args, variants = args_of(
        bench, '--variants', f'fpn={FPN}', f'searched={SEARCHED}',
        '--metrics', 'm', '--fit-width', 'searched', '--fit-widths', '64')
    with pytest.raises(ValueError, match=r'no width of \[64\] fits'):
        bench.fit_widths(variants, args)


def test_fit_part_that_does_not_exist_is_named(bench):
    args, variants = args_of(
        bench, '--variants', f'fpn={FPN}', f'searched={SEARCHED}',
        '--metrics', 'm', '--fit-width', 'searched', '--fit-part',
        'model.segmentor')
    with pytest.raises(KeyError, match="--fit-part 'model.segmentor'"):
        bench.fit_widths(variants, args)


# ------------------------------------------------------------------ --reuse
def test_reuse_reads_matching_results_and_trains_the_rest(
        bench, tmp_path, monkeypatch):
    """--reuse: a unit whose result.json records its config, options and
    seed is read, not trained; the others are trained; the table mixes
    both (a config of another checkout, the same path from configs/ on,
    is the same config). Without --reuse every unit is trained; a result
    that records other options is an error naming the file and both
    records."""
    work = tmp_path / 'w'
    argv = ['--variants', f'fpn={FPN}', f'searched={SEARCHED}', '--seeds',
            '0', '1', '--metrics', 'm', '--variant-cfg-options',
            'searched:model.detector.neck.out_channels=32', '--work-dir',
            str(work)]
    trained = []

    def fake_run_units(units, jobs):
        trained.append([u['id'] for u in units])
        return {u['id']: dict(unit_result({'m': 0.5}),
                              config=u['config'], seed=u['seed'],
                              cfg_options=u['cfg_options']) for u in units}

    monkeypatch.setattr(bench, 'run_units', fake_run_units)

    def put(label, seed, m, **record):
        folder = work / label / f'seed_{seed}'
        folder.mkdir(parents=True)
        (folder / 'result.json').write_text(json.dumps(dict(
            unit_result({'m': m}), seed=seed, data_root=None, **record)))

    # recorded by another checkout of the project: the same config file
    put('fpn', 1, 0.25, config='/elsewhere/checkout/configs/tim/'
        'retinanet_ivif_fpn_toy.py', cfg_options={},
        config_sha256=bench.config_sha256(FPN))
    put('searched', 0, 0.125, config=SEARCHED,
        cfg_options={'model.detector.neck.out_channels': 32},
        config_sha256=bench.config_sha256(
            SEARCHED, {'model.detector.neck.out_channels': 32}))
    out = bench.main(argv + ['--reuse'])
    assert trained == [['fpn_seed0', 'searched_seed1']]
    assert out['fpn']['m']['per_seed'] == [0.5, 0.25]
    assert out['searched']['m']['per_seed'] == [0.125, 0.5]
    assert out['searched']['m']['diff']['per_seed'] == [-0.375, 0.25]

    trained.clear()
    bench.main(argv)  # no --reuse: everything trains
    assert trained == [['fpn_seed0', 'fpn_seed1', 'searched_seed0',
                        'searched_seed1']]

    stale = argv[:]
    stale[stale.index('searched:model.detector.neck.out_channels=32')] = \
        'searched:model.detector.neck.out_channels=24'
    with pytest.raises(ValueError, match=r"--reuse: .*searched.seed_0.result"
                       r"\.json records .*out_channels': 32.*variant "
                       r"searched seed 0 is .*out_channels': 24"):
        bench.main(stale + ['--reuse'])


def test_reuse_keys_on_the_config_content_and_the_data_root(
        bench, tmp_path, monkeypatch):
    """--reuse compares the config's content (its ``_base_`` included), not
    only its path, and ``--data-root``: an unchanged config of another
    checkout (its paths under ``configs/`` too) is reused; the same file
    with an edited base, or another data root, is an error naming what
    differs. Nothing is trained: the units are stubbed."""
    import shutil
    first = tmp_path / 'a' / 'configs'
    first.mkdir(parents=True)
    (first / 'base.py').write_text('lr = 0.1\n')
    (first / 'v.py').write_text(
        "_base_ = ['./base.py']\n"
        "genotype = '{{ fileDirname }}/g.yaml'\n")
    work = tmp_path / 'w'
    trained = []

    def fake_run_units(units, jobs):  # the fields run_unit records
        trained.extend(u['id'] for u in units)
        out = {}
        for u in units:
            out[u['id']] = dict(
                unit_result({'m': 0.5}), seed=u['seed'], config=u['config'],
                cfg_options=u['cfg_options'], env=u['env'],
                config_sha256=u['config_sha256'],
                data_root=u['data_root_key'])
            os.makedirs(u['work_dir'], exist_ok=True)
            with open(u['result'], 'w') as f:
                json.dump(out[u['id']], f)
        return out

    monkeypatch.setattr(bench, 'run_units', fake_run_units)

    def argv(config, *extra):
        return ['--variants', f'v={config}', '--seeds', '0', '--metrics',
                'm', '--work-dir', str(work), '--reuse', *extra]

    bench.main(argv(first / 'v.py'))
    assert trained == ['v_seed0']
    stored = json.loads((work / 'v' / 'seed_0' / 'result.json').read_text())
    assert stored['config_sha256'] == bench.config_sha256(first / 'v.py')
    assert stored['data_root'] is None
    # another checkout of the same config: the same digest, reused
    second = tmp_path / 'b' / 'configs'
    shutil.copytree(first, second)
    assert bench.config_sha256(second / 'v.py') == stored['config_sha256']
    bench.main(argv(second / 'v.py'))
    assert trained == ['v_seed0']
    # the same path, its base edited: not reused
    (second / 'base.py').write_text('lr = 0.2\n')
    with pytest.raises(ValueError, match=r"--reuse: .*result\.json records "
                       r".*differ in \['config_sha256'\]"):
        bench.main(argv(second / 'v.py'))
    # another --data-root: not reused
    (tmp_path / 'data').mkdir()
    with pytest.raises(ValueError, match=r"differ in \['data_root'\]"):
        bench.main(argv(first / 'v.py', '--data-root',
                        str(tmp_path / 'data')))
    assert trained == ['v_seed0']
    assert bench.data_root_key(osp.join(REPO, 'data', 'toy')) == \
        '<repository>/data/toy'


# ------------------------------------------------------------- --rank-among
def test_rank_variants_by_hand(bench):
    """Rank percentiles among a group's means, by hand: higher is better by
    default, lower with lower_better; ties count half."""
    summary = {k: {'m': {'mean': v}} for k, v in
               dict(s0=0.30, s1=0.15, r0=0.10, r1=0.20, r2=0.30,
                    r3=0.40).items()}
    group = ['r0', 'r1', 'r2', 'r3']
    r = bench.rank_variants(summary, group, ['m'])['m']
    assert r['group'] == group and r['group_median'] == pytest.approx(0.25)
    # s0 beats r0, r1 and ties r2: 2.5 of 4
    assert r['rank_pct'] == {'s0': 62.5, 's1': 25.0}
    low = bench.rank_variants(summary, group, ['m'], lower_better=True)
    assert low['m']['rank_pct'] == {'s0': 37.5, 's1': 75.0}


def test_rank_among_and_signal_vs_noise_in_the_result(
        bench, tmp_path, monkeypatch):
    """main: ``ranks`` of the searched variant among the group and the
    variance components of the variants x seeds table (by hand: variants
    that differ only by a constant per variant have no seed x variant
    noise and reliability 1)."""
    values = {'fpn': [0.1, 0.3], 's': [0.5, 0.7], 'r0': [0.2, 0.4],
              'r1': [0.4, 0.6]}

    def fake_run_units(units, jobs):
        return {u['id']: dict(unit_result(
            {'m': values[u['label']][u['seed']]}), seed=u['seed'])
            for u in units}

    monkeypatch.setattr(bench, 'run_units', fake_run_units)
    out = bench.main(['--variants'] + [f'{k}={FPN}' for k in values] + [
        '--seeds', '0', '1', '--metrics', 'm', '--rank-among', 'r0', 'r1',
        '--work-dir', str(tmp_path)])
    ranks = out['ranks']['m']
    assert ranks['group_median'] == pytest.approx(0.4)
    assert ranks['rank_pct'] == {'fpn': 0.0, 's': 100.0}
    sig = out['signal_vs_noise']['m']
    assert sig['genotypes'] == 4 and sig['seeds'] == 2
    assert sig['interaction_sd'] == pytest.approx(0.0, abs=1e-12)
    assert sig['reliability'] == pytest.approx(1.0)
    # means 0.2, 0.6, 0.3, 0.5: sample s.d.
    assert sig['between_sd'] == pytest.approx(
        float(torch.tensor([0.2, 0.6, 0.3, 0.5]).double().std()))


@pytest.mark.parametrize('rank, match', [
    (['r0', 'nope'], r"--rank-among: 'nope' is no variant"),
    (['r0'], 'at least 2 distinct'),
    (['r0', 'r0'], 'at least 2 distinct'),
    (['fpn', 'r0', 'r1'], 'leave at least one'),
])
def test_rank_among_errors(bench, rank, match):
    with pytest.raises(ValueError, match=match):
        args_of(bench, '--variants', f'fpn={FPN}', f'r0={FPN}', f'r1={FPN}',
                '--metrics', 'm', '--rank-among', *rank)


# ------------------------------------------------------- --from-runs records
RUNS = osp.join(REPO, 'docs', 'results', 'runs', 'neck_headline_control.json')
RECORD = osp.join(REPO, 'docs', 'results', 'neck_headline_control.json')


def test_from_runs_recomputes_the_documented_neck_control(bench, tmp_path,
                                                          capsys):
    """The committed runs of the headline-scale neck control, tabled by the
    code that tables a live run, give the values the live control printed
    (random median 0.1728, reliability 0.1886, the ranks), and the record
    written equals the committed one up to its commit and machine."""
    record = tmp_path / 'rec.json'
    with open(RECORD, encoding='utf-8') as f:
        committed = json.load(f)
    argv = committed['command'].split('bench_config_seeds.py ', 1)[1]
    import shlex
    argv = [a if a != 'docs/results/neck_headline_control.json' else
            str(record) for a in shlex.split(argv)]
    argv = [RUNS if a.endswith('runs/neck_headline_control.json') else a
            for a in argv]
    out = bench.main(argv)
    sig = out['signal_vs_noise']['coco/bbox_mAP']
    assert sig['genotypes'] == 14 and sig['seeds'] == 3
    assert round(sig['reliability'], 4) == 0.1886
    assert round(sig['between_sd'], 4) == 0.0099
    assert round(sig['interaction_sd'], 4) == 0.0357
    ranks = out['ranks']['coco/bbox_mAP']
    assert round(ranks['group_median'], 4) == 0.1728
    assert ranks['rank_pct'] == {'fpn': 50.0, 's4': 50.0, 's5': 50.0,
                                 'h0': 12.5, 'h1': 37.5, 'allskip': 0.0}
    # s4's difference to the FPN, per seed, by hand
    assert out['s4']['coco/bbox_mAP']['diff']['per_seed'] == pytest.approx(
        [0.193 - 0.242, 0.194 - 0.135, 0.135 - 0.133])
    with open(record, encoding='utf-8') as f:
        written = json.load(f)
    assert written['result'] == committed['result']
    # the record also holds the RESULT line's JSON
    assert written['RESULT']['ranks'] == out['ranks']
    assert committed['RESULT']['signal_vs_noise'] == out['signal_vs_noise']
    rows = written['result']['whole configs over seeds']
    assert len(rows) == 14
    assert sum(r['coco/bbox_mAP rank %'] == 'group' for r in rows.values()) \
        == 8
    assert 'RESULT ' in capsys.readouterr().out


def test_from_runs_errors_name_the_file_and_the_gap(bench, tmp_path):
    bad = tmp_path / 'runs.json'
    bad.write_text(json.dumps({'runs': {'a': {'0': {'metrics': {'m': 1}}}}}))
    with pytest.raises(ValueError,
                       match=r"'a' has no run for seed\(s\) \[1\]"):
        bench.main(['--from-runs', str(bad), '--seeds', '0', '1',
                    '--metrics', 'm'])
    bad.write_text(json.dumps({'variants': {}}))
    with pytest.raises(ValueError, match='expected'):
        bench.main(['--from-runs', str(bad), '--metrics', 'm'])
    with pytest.raises(ValueError, match=r"--labels: expected LABEL=NAME, "
                       r"got \['fpn'\]"):
        bench.main(['--from-runs', RUNS, '--metrics', 'coco/bbox_mAP',
                    '--labels', 'fpn'])
    with pytest.raises(FileNotFoundError, match='--from-runs'):
        bench.main(['--from-runs', str(tmp_path / 'none.json'),
                    '--metrics', 'm'])


def test_config_key_holds_the_genotype_a_variant_option_names(bench,
                                                              tmp_path):
    """A variant's genotype (here named by its cfg-options) is keyed by its
    content: a new search writing the same file changes the key."""
    genotype = tmp_path / 'g.yaml'
    genotype.write_text('normal: [a]\n')
    opts = {'model.detector.neck.genotype': str(genotype)}
    key = bench.config_sha256(FPN, opts)
    assert bench.config_sha256(FPN, opts) == key != bench.config_sha256(FPN)
    genotype.write_text('normal: [b]\n')
    assert bench.config_sha256(FPN, opts) != key
