"""The NYU v2 DCNAS configs on real NYU data: a tiny NYU-layout folder made
from the 3 shared NYU test pairs (``../shared/data/gisr/NYUDepthv2_Test``),
re-rooted with ``--data-root`` and shrunk with ``--cfg-options`` only.

The fast test checks that every NYU config's datasets resolve on the
layout; the slow one runs the x4 family (supernet -> predictor -> search
-> retrain -> test) for 1-2 iterations with the configs' own networks
(C=16, B=4), costs and schedules."""
import glob
import os
import os.path as osp
import shutil

import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmfusenas.models.gisr import DCNASNet
from mmfusenas.registry import DATASETS
from mmfusenas.search.estimators import count_params
from mmfusenas.utils.data_folders import reroot_data
from test_dcnas_pipeline import CFG, _tool


NYU_CONFIGS = sorted(glob.glob(osp.join(CFG, '*nyu*.py')))


@pytest.fixture(scope='module')
def nyu_root(shared_data, tmp_path_factory):
    """The NYU layout of docs/methods/dcnas.md (RGB/<i>.jpg, Depth/<i>.npy in
    metres, train / search_train / search_val / test id files) from the 3
    shared pairs: 1000, 1001 train (1000 search_train, 1001 search_val),
    1002 test."""
    src = osp.join(shared_data, 'gisr', 'NYUDepthv2_Test')
    if not osp.isdir(src):
        pytest.skip(f'{src} not found (shared NYU test pairs)')
    root = str(tmp_path_factory.mktemp('nyu_v2'))
    for sub in ('RGB', 'Depth'):
        os.makedirs(osp.join(root, sub))
        for f in sorted(os.listdir(osp.join(src, sub))):
            shutil.copy(osp.join(src, sub, f), osp.join(root, sub, f))
    for name, ids in (('train.txt', '1000\n1001\n'),
                      ('search_train.txt', '1000\n'),
                      ('search_val.txt', '1001\n'), ('test.txt', '1002\n')):
        with open(osp.join(root, name), 'w') as f:
            f.write(ids)
    return root


def _ids(loader_cfg):
    init_default_scope('mmfusenas')
    ds = DATASETS.build(loader_cfg['dataset'])
    return [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]


@pytest.mark.parametrize('path', NYU_CONFIGS,
                         ids=[osp.basename(p) for p in NYU_CONFIGS])
def test_nyu_configs_resolve_on_the_layout(path, nyu_root):
    assert len(NYU_CONFIGS) == 30
    cfg = Config.fromfile(path)
    reroot_data(cfg, nyu_root)
    name = osp.basename(path)
    # the supernet, predictor and search never train on the ids that score
    # the paths (search_val); the retrained network trains on all of train
    assert _ids(cfg.train_dataloader) == (
        ['1000', '1001'] if name.startswith('retrain') else ['1000'])
    assert _ids(cfg.test_dataloader) == ['1002']
    if name.startswith('search'):
        # the evolution scores candidates on search_val, never on test
        assert _ids(cfg.train_cfg.dataloader) == ['1001']
    if name.startswith('predictor'):
        # predictor labels come from search_val too (not the test ids)
        assert _ids(cfg.val_dataloader) == ['1001']
        assert cfg.predictor.out_dir.startswith('work_dirs/dcnas_')


def _small_loaders():
    opts = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts[f'{key}.num_workers'] = 0
        opts[f'{key}.persistent_workers'] = False
    return opts


def _opts(d):
    return [f'{k}={v}' for k, v in d.items()]


@pytest.mark.slow
def test_nyu_x4_family_runs_on_nyu_layout(nyu_root, tmp_path):
    """supernet -> predictor -> (predictor-guided supernet, Tiny x8) ->
    search -> retrain -> test, x4, C=16 B=4."""
    work = str(tmp_path / 'work')
    train = _tool('train.py')
    loaders = _small_loaders()
    # 1. supernet: 2 iterations of the official schedule, batch 2
    train.main([
        osp.join(CFG, 'supernet_nyu_x4.py'), '--data-root', nyu_root,
        '--work-dir', work, '--cfg-options'
    ] + _opts(dict(loaders, **{
        'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'train_dataloader.batch_size': 2
    })))
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)
    # 2. predictor: 4 scored paths on search_val
    pred_dir = osp.join(work, 'predictor')
    res = _tool('search', 'train_predictor.py').main([
        osp.join(CFG, 'predictor_nyu_x4.py'), '--checkpoint', ckpt,
        '--data-root', nyu_root, '--work-dir', pred_dir, '--cfg-options'
    ] + _opts(dict(loaders, **{
        'predictor.num_paths': 4, 'predictor.batches': 1,
        'predictor.epochs': 2, 'predictor.out_dir': pred_dir
    })))
    assert res['paths'] == 4 and res['heldout'] == 2
    # 2b. predictor-guided supernet (Tiny x8: C=8, its own LUT at 480 x 480)
    # with a predictor refresh after iteration 1
    pwork = str(tmp_path / 'work_p')
    train.main([
        osp.join(CFG, 'supernet_p_tiny_nyu_x8.py'), '--data-root', nyu_root,
        '--work-dir', pwork, '--cfg-options'
    ] + _opts(dict(loaders, **{
        'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'train_dataloader.batch_size': 2,
        'train_cfg.sampler.predictor': osp.join(pred_dir, 'predictor.pth'),
        'train_cfg.sampler.m': 2, 'train_cfg.sampler.num_static': 4,
        'train_cfg.sampler.refresh_interval': 1,
        'train_cfg.sampler.refresh_start': 1,
        'train_cfg.sampler.refresh_paths': 2,
        'train_cfg.sampler.refresh_batches': 1,
        'train_cfg.sampler.refresh_epochs': 1,
        'train_cfg.sampler.cost_table.cache_file': osp.join(
            pwork, 'costs.json')
    })))
    assert osp.isfile(osp.join(pwork, 'iter_2.pth'))
    # 3. evolution under the full model's 2 M budget, LUT at 480 x 480
    train.main([
        osp.join(CFG, 'search_nyu_x4.py'), '--data-root', nyu_root,
        '--work-dir', work, '--cfg-options'
    ] + _opts(dict(loaders, **{
        # the search loop's own scoring loader (search_val)
        'train_cfg.dataloader.num_workers': 0,
        'train_cfg.dataloader.persistent_workers': False,
        'load_from': ckpt,
        'train_cfg.predictor': osp.join(pred_dir, 'predictor.pth'),
        'train_cfg.cost_table.cache_file': osp.join(work, 'costs.json'),
        'train_cfg.init_pool': 4, 'train_cfg.population_size': 2,
        'train_cfg.top_k': 1, 'train_cfg.num_mutation': 1,
        'train_cfg.num_crossover': 1, 'train_cfg.max_iters': 2
    })))
    geno_file = osp.join(work, 'search', 'best_genotype.yaml')
    geno = yaml.safe_load(open(geno_file))
    assert geno['meta']['costs']['params'] <= 2e6
    assert geno['meta']['metric'] == 'gisr/RMSE'
    assert count_params(DCNASNet(geno['choices'], num_features=16)) == \
        geno['meta']['costs']['params']
    # 4. retrain the exported genotype from scratch, then test it (NYU
    # preset: 6-px border, cm)
    rwork = str(tmp_path / 'retrain')
    opts = dict(loaders, **{
        'model.network.genotype': geno_file, 'train_cfg.max_iters': 1,
        'train_cfg.val_interval': 1, 'default_hooks.checkpoint.interval': 1,
        'train_dataloader.batch_size': 2
    })
    train.main([
        osp.join(CFG, 'retrain_nyu_x4.py'), '--data-root', nyu_root,
        '--work-dir', rwork, '--cfg-options'
    ] + _opts(opts))
    metrics = _tool('test.py').main([
        osp.join(CFG, 'retrain_nyu_x4.py'),
        osp.join(rwork, 'iter_1.pth'), '--data-root', nyu_root,
        '--work-dir', rwork, '--cfg-options'
    ] + _opts({'model.network.genotype': geno_file, **loaders}))
    assert set(metrics) >= {'gisr/RMSE', 'gisr/bicubic_RMSE'}
    # bicubic x4 on NYU is a few cm; every value finite
    assert 0.5 < metrics['gisr/bicubic_RMSE'] < 20
    assert all(v == v and v >= 0 for v in metrics.values())
