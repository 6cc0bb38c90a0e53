"""The HBL hierarchy end to end on toy data: loss search -> architecture
search (with the searched loss weights) -> training of the derived genotype
(with the same weights) -> test, each stage handing the next a file.

The fast test builds the three toy configs' models in process and takes one
step per stage; the slow one runs tools/train.py and tools/test.py (about
3 minutes on 2 shared cores)."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement

from mmfusenas.utils.checkpoint import read_checkpoint
from mmfusenas.models.mutables import Genotype, load_loss_weights
from mmfusenas.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmfusenas.testing.toy_data.lowlight import generate_toy_lowlight

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool(name):
    spec = importlib.util.spec_from_file_location(
        f'hbl_tool_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(name):
    return osp.join(REPO, 'configs', 'hbl', f'{name}.py')


pytestmark = pytest.mark.usefixtures('one_thread')


def _options(root, iters, search):
    opts = [
        f'train_dataloader.dataset.data_root={root}/train/',
        f'val_dataloader.dataset.data_root={root}/val/',
        f'test_dataloader.dataset.data_root={root}/val/',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1'
    ]
    if search:
        opts += [f'train_cfg.arch_dataloader.dataset.data_root={root}/train/']
    return opts


@pytest.mark.slow
def test_toy_hierarchy_hands_off_loss_weights_and_genotype(tmp_path):
    root = str(tmp_path / 'toy')
    generate_toy_lowlight(root, num_train=2, num_val=2, size=64, seed=3)
    train, test = _tool('train'), _tool('test')
    w1, w2, w3 = (str(tmp_path / n) for n in ('loss', 'arch', 'train'))

    # stage 1: loss search
    train.main([_config('search_loss_hbl_toy'), '--work-dir', w1,
                '--cfg-options'] + _options(root, 2, True))
    lw_path = osp.join(w1, 'loss_weights', 'latest.yaml')
    lw = load_loss_weights(lw_path)
    assert sorted(lw['weights']) == sorted([
        'loss_l1', 'loss_l2', 'loss_color', 'loss_ssim', 'loss_vgg',
        'loss_lpips', 'loss_tv', 'loss_lap'
    ])
    assert all(v >= 0 for v in lw['weights'].values())
    assert any(v != 1.0 for v in lw['weights'].values())  # beta moved
    assert sorted(lw['logits']) == [f'loss_vgg/g{k}' for k in range(1, 5)]
    assert lw['meta']['train_steps'] == 2

    # stage 2: architecture search with the searched weights
    train.main([_config('search_arch_hbl_toy'), '--work-dir', w2,
                '--cfg-options', f'model.architecture.loss_weights={lw_path}'
                ] + _options(root, 2, True))
    geno_path = osp.join(w2, 'genotypes', 'latest.yaml')
    geno = Genotype.load(geno_path)
    assert len(geno.choices) == 9 + 9 + 2 * 8
    assert geno.network['type'] == 'HBLNet'

    # stage 3: train the derived network with the same weights, then test
    train.main([
        _config('train_hbl_toy'), '--work-dir', w3, '--cfg-options',
        f'model.network.genotype={geno_path}', f'model.loss_weights={lw_path}'
    ] + _options(root, 3, False))
    ckpt = osp.join(w3, 'iter_3.pth')
    state = read_checkpoint(ckpt)
    assert any(k.startswith('network.units.1.') for k in state['state_dict'])
    metrics = test.main([
        _config('train_hbl_toy'), ckpt, '--work-dir', str(tmp_path / 'test'),
        '--cfg-options', f'model.network.genotype={geno_path}',
        f'model.loss_weights={lw_path}'
    ] + _options(root, 3, False))
    assert 0 < metrics['enh/PSNR'] < 60 and -1 <= metrics['enh/SSIM'] <= 1


def _batch(seed, n=2, size=32):
    g = torch.Generator().manual_seed(seed)
    low = (torch.rand(n, 3, size, size, generator=g) * 60).to(torch.uint8)
    gt = (low.float() * 3 + 20).clamp(0, 255).to(torch.uint8)
    return dict(
        inputs=list(low),
        data_samples=[BaseDataElement(gt_img=gt[i]) for i in range(n)])


def _search_step(cfg):
    model = MODELS.build(cfg.model)
    ow_cfg = cfg.optim_wrapper.to_dict()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=ow_cfg.pop('constructor'), optim_wrapper_cfg=ow_cfg))
    log = model.train_step(dict(train=_batch(0), val=_batch(1)),
                           constructor(model))
    return model, log


def test_toy_hierarchy_in_process(tmp_path):
    """Stage configs build, step and hand off their files (fast)."""
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmfusenas'):
        # stage 1: loss search on the toy config
        cfg1 = Config.fromfile(_config('search_loss_hbl_toy'))
        algo, log = _search_step(cfg1)
        assert 'upper_loss' in log and log['beta/loss_l1'] != 1.0
        lw_path = str(tmp_path / 'loss_weights' / 'latest.yaml')
        algo.export_loss_weights(lw_path)
        lw = load_loss_weights(lw_path)
        assert lw['weights']['loss_l1'] == pytest.approx(
            algo.hyper.weight('loss_l1').item())
        # stage 2: the architecture search reads them
        cfg2 = Config.fromfile(_config('search_arch_hbl_toy'))
        cfg2.model.architecture.loss_weights = lw_path
        search, log = _search_step(cfg2)
        assert search.architecture.loss_weights == lw['weights']
        assert 'hypergrad_norm' in log
        geno_path = str(tmp_path / 'genotypes' / 'latest.yaml')
        search.derive_genotype().dump(geno_path)
        # stage 3: the derived genotype trained with the same weights
        cfg3 = Config.fromfile(_config('train_hbl_toy'))
        cfg3.model.network.genotype = geno_path
        cfg3.model.loss_weights = lw_path
        model = MODELS.build(cfg3.model)
        assert model.loss_weights == lw['weights']
        choices = Genotype.load(geno_path).choices
        assert len(choices) == 9 + 9 + 2 * 8
        assert sum(p.numel() for p in model.parameters()) < sum(
            p.numel() for p in search.architecture.parameters())
        data = model.data_preprocessor(_batch(2), True)
        losses = model(**data, mode='loss')
        assert set(losses) == set(lw['weights'])
        sum(losses.values()).backward()
