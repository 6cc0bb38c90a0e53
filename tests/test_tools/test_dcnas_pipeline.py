"""The DCNAS toy pipeline end to end, from the published toy configs:
supernet (uniform) -> predictor -> supernet (predictor-guided, with a
refresh) -> constrained evolution -> retrain from scratch -> test."""
import importlib.util
import os.path as osp

import pytest
import yaml
from mmengine.config import Config

from mmfusenas.engine.runner import with_cached_text
from mmfusenas.models.gisr import DCNASNet
from mmfusenas.search.estimators import count_params
from mmfusenas.testing.toy_data import generate_toy_rgbd

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'configs', 'dcnas')

# one intra-op thread, as in the suite's workers (tests/conftest.py), also
# when run in one process (-n 0): on 2 busy cores the tiny steps of the
# pipeline took ten times the CPU seconds with 2 threads
pytestmark = pytest.mark.usefixtures('one_thread')


def _tool(*parts):
    path = osp.join(ROOT, 'tools', *parts)
    spec = importlib.util.spec_from_file_location(parts[-1][:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _shrink(cfg, data, work):
    """Tiny data, C=4 B=1 supernet, a few iterations."""
    for split, key in (('train', 'train_dataloader'),
                       ('val', 'val_dataloader'), ('test',
                                                   'test_dataloader')):
        cfg[key].dataset.data_root = osp.join(data, split)
    cfg.train_dataloader.batch_size = 2
    if cfg.model.network.type == 'DCNASNet':
        cfg.model.network.num_features = 4
        cfg.model.network.num_blocks = 1
    cfg.work_dir = work
    cfg.default_hooks.logger.interval = 1
    return cfg


def _write(cfg, path):
    # MMEngine's text, unformatted in the suite (tests/conftest.py)
    with_cached_text(cfg).dump(path)
    return path


def test_toy_pipeline_end_to_end(tmp_path, capsys):
    data = str(tmp_path / 'toy')
    generate_toy_rgbd(data, 4, 2, 2, seed=0, size=32)
    work = str(tmp_path / 'work')
    train = _tool('train.py')
    # 1. supernet, uniform path sampling
    cfg = _shrink(Config.fromfile(osp.join(CFG, 'supernet_toy_x4.py')), data,
                  work)
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 3
    cfg.default_hooks.checkpoint.interval = 3
    train.main([_write(cfg, str(tmp_path / 'supernet.py'))])
    ckpt = osp.join(work, 'iter_3.pth')
    assert osp.isfile(ckpt)
    # 2. predictor on scored random paths
    cfg = _shrink(Config.fromfile(osp.join(CFG, 'predictor_toy_x4.py')),
                  data, work)
    cfg.load_from = ckpt
    cfg.predictor.update(num_paths=10, batches=1, epochs=2,
                         out_dir=osp.join(work, 'predictor'))
    res = _tool('search', 'train_predictor.py').main(
        [_write(cfg, str(tmp_path / 'predictor.py'))])
    assert res['paths'] == 10 and res['heldout'] == 2
    assert 'scoring 10 path(s) in chunks of 16' in capsys.readouterr().out
    pred_file = osp.join(work, 'predictor', 'predictor.pth')
    # 3. predictor-guided supernet training with a refresh at iteration 2
    cfg = _shrink(Config.fromfile(osp.join(CFG, 'supernet_p_toy_x4.py')),
                  data, str(tmp_path / 'work_p'))
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 3
    cfg.train_cfg.sampler.update(
        predictor=pred_file, m=3, refresh_interval=2, refresh_start=2,
        refresh_paths=3, refresh_batches=1, refresh_epochs=1, num_static=10,
        cost_table=dict(
            type='PathCostTable',
            cost_model=dict(type='DCNASCostModel', num_features=4,
                            num_blocks=1, input_size=(32, 32)),
            cache_file=osp.join(work, 'costs.json'),
            measure_latency=False))
    train.main([_write(cfg, str(tmp_path / 'supernet_p.py'))])
    assert osp.isfile(osp.join(str(tmp_path / 'work_p'), 'iter_3.pth'))
    # 4. constrained evolution with supernet weights
    cfg = _shrink(Config.fromfile(osp.join(CFG, 'search_toy_x4.py')), data,
                  work)
    cfg.load_from = ckpt
    tc = cfg.train_cfg
    tc.dataloader.dataset.data_root = osp.join(data, 'val')
    tc.fix_network.num_features = 4
    tc.cost_table.cost_model.update(num_features=4, num_blocks=1,
                                    input_size=(32, 32))
    tc.cost_table.cache_file = osp.join(work, 'costs.json')
    tc.budgets = dict(params=60000)
    tc.update(predictor=pred_file, init_pool=8, population_size=4, top_k=2,
              num_mutation=2, num_crossover=2, max_iters=2)
    train.main([_write(cfg, str(tmp_path / 'search.py'))])
    geno_file = osp.join(work, 'search', 'best_genotype.yaml')
    geno = yaml.safe_load(open(geno_file))
    assert geno['meta']['costs']['params'] <= 60000
    net = DCNASNet(geno['choices'], num_features=4)
    assert count_params(net) == geno['meta']['costs']['params']
    state = __import__('json').load(
        open(osp.join(work, 'search', 'evolution_state.json')))
    assert state['iteration'] == 2 and len(state['scores']) >= 4
    # 5. retrain the exported genotype from scratch, then test it
    cfg = _shrink(Config.fromfile(osp.join(CFG, 'retrain_toy_x4.py')), data,
                  str(tmp_path / 'retrain'))
    cfg.model.network.genotype = geno_file
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 3
    cfg.default_hooks.checkpoint.interval = 3
    rcfg = _write(cfg, str(tmp_path / 'retrain.py'))
    train.main([rcfg])
    metrics = _tool('test.py').main(
        [rcfg, osp.join(str(tmp_path / 'retrain'), 'iter_3.pth')])
    assert set(metrics) >= {'gisr/RMSE', 'gisr/bicubic_RMSE'}
    assert all(v == v and v >= 0 for v in metrics.values())
