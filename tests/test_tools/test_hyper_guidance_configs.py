"""Hyper-guidance configs and tools: official parameter counts of every
config, the toy bilevel pipeline (train -> test -> deblur a folder), the toy
data generator."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner.checkpoint import load_checkpoint

from mmfusenas.datasets import RestorationFolderDataset
from mmfusenas.registry import MODELS
from mmfusenas.testing.toy_data import generate_toy_deblur
from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG_DIR = osp.join(REPO, 'configs', 'hyper_guidance')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_deblur') / 'toy')
    generate_toy_deblur(root, num_train=2, num_test=1, num_kernels=2,
                        size=64, test_size=64, kernel_size=7)
    return root


# official counts: proxy 75,073; ffd denoiser 260,289; small_ffd 149,505
# (2-channel input) / 148,929 (1-channel); IRCNN 185,857
COUNTS = {
    'hqs_proxy_bilevel_levin.py': 1676810,
    'hqs_proxy_naive_levin.py': 1676810,
    'hqs_proxy_hypergrad_levin.py': 1676810,
    'hqs_noguide_levin.py': 5 * 148929,
    'hqs_manual_levin.py': 5 * 149505 + 4 * 75073,
    'hqs_ircnn_levin.py': 5 * 185857,
}


@pytest.mark.parametrize('name', sorted(COUNTS))
def test_configs_build_with_official_parameter_counts(name):
    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == COUNTS[name]
    toy = Config.fromfile(osp.join(CFG_DIR, name.replace('_levin', '_toy')))
    assert toy.train_cfg.max_iters == 20
    assert toy.train_dataloader.dataset.crop_size == 64


def test_toy_generator_layout(toy_root):
    assert len(glob.glob(osp.join(toy_root, 'train', '*.png'))) == 2
    assert len(glob.glob(osp.join(toy_root, 'levin', '*.mat'))) == 2
    from scipy.io import loadmat
    mat = loadmat(osp.join(toy_root, 'levin', 'im01_flit02.mat'))
    assert mat['x'].shape == (64, 64) and mat['f'].shape == (7, 7)
    assert mat['f'].sum() == pytest.approx(1.0)
    k = np.load(osp.join(toy_root, 'blurry_kernels', 'im01_flit02.npy'))
    np.testing.assert_allclose(k, mat['f'])


def _tiny(toy_root, work_dir):
    return [
        '--work-dir', work_dir, '--cfg-options',
        f'train_dataloader.dataset.img_dirs={toy_root}/train',
        f'train_dataloader.dataset.kernels={toy_root}/kernels',
        'train_dataloader.dataset.crop_size=32',
        f'val_dataloader.dataset.data_root={toy_root}/levin',
        f'test_dataloader.dataset.data_root={toy_root}/levin',
        'model.architecture.network.proxy.width=4',
        'model.architecture.network.denoiser.width=4',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2'
    ]


def test_bilevel_toy_train_test_and_deblur_folder(toy_root, tmp_path):
    config = osp.join(CFG_DIR, 'hqs_proxy_bilevel_toy.py')
    work = str(tmp_path / 'work')
    load_tool('tools/train.py').main([config] + _tiny(toy_root, work))
    ckpt = osp.join(work, 'iter_2.pth')
    state = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert all(torch.isfinite(v).all() for v in state['state_dict'].values()
               if v.is_floating_point())
    # tools/deblur.py on the blurry folder, with ground truth
    out = str(tmp_path / 'out')
    opts = ['model.architecture.network.proxy.width=4',
            'model.architecture.network.denoiser.width=4']
    means = load_tool('tools/deblur.py').main([
        config, ckpt, '--input', f'{toy_root}/blurry', '--kernels',
        f'{toy_root}/blurry_kernels', '--out', out, '--gt',
        f'{toy_root}/sharp', '--cfg-options'] + opts)
    assert np.isfinite(means['PSNR']) and 0 < means['SSIM'] <= 1
    saved = cv2.imread(osp.join(out, 'im01_flit01.png'), cv2.IMREAD_UNCHANGED)
    assert saved.shape == (64, 64) and saved.dtype == np.uint8
    # the saved image is the model's prediction, rounded
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({
        'model.architecture.network.proxy.width': 4,
        'model.architecture.network.denoiser.width': 4})
    model = MODELS.build(cfg.model)
    load_checkpoint(model, ckpt, map_location='cpu', strict=True)
    model.eval()
    ds = RestorationFolderDataset(f'{toy_root}/blurry',
                                  f'{toy_root}/blurry_kernels')
    with torch.no_grad():
        (sample, ) = model.test_step(pseudo_collate([ds[0]]))
    want = np.clip(np.round(sample.pred_img[0].numpy() * 255), 0, 255)
    np.testing.assert_array_equal(saved, want.astype(np.uint8))
    with pytest.raises(FileNotFoundError, match='no kernel'):
        RestorationFolderDataset(f'{toy_root}/blurry', f'{toy_root}/kernels')


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(
    n.replace('_levin', '_toy') for n in COUNTS))
def test_toy_configs_run_as_published(name, toy_root, tmp_path):
    args = [osp.join(CFG_DIR, name), '--work-dir', str(tmp_path),
            '--cfg-options']
    sets = ['train_dataloader', 'val_dataloader', 'test_dataloader']
    args += [f'train_dataloader.dataset.img_dirs={toy_root}/train',
             f'train_dataloader.dataset.kernels={toy_root}/kernels']
    args += [f'{s}.dataset.data_root={toy_root}/levin' for s in sets[1:]]
    if 'hypergrad' in name:
        args += [
            f'train_cfg.arch_dataloader.dataset.img_dirs={toy_root}/train',
            f'train_cfg.arch_dataloader.dataset.kernels={toy_root}/kernels']
    load_tool('tools/train.py').main(args)
    _assert_trained(osp.join(CFG_DIR, name), str(tmp_path))


def _assert_trained(config: str, work: str, iters: int = 20) -> None:
    """The run's last checkpoint is at ``iters``, finite, and loads
    strictly into the config's model."""
    ckpt = torch.load(osp.join(work, f'iter_{iters}.pth'), map_location='cpu',
                      weights_only=True)
    assert ckpt['meta']['iter'] == iters
    state = ckpt['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())
    MODELS.build(Config.fromfile(config).model).load_state_dict(state,
                                                                strict=True)


@pytest.fixture(scope='module')
def toy_rest(tmp_path_factory):
    from mmfusenas.testing.toy_data import generate_toy_restoration
    root = str(tmp_path_factory.mktemp('toy_rest'))
    generate_toy_restoration(root, num_train=2, num_test=1, size=64)
    return root


@pytest.mark.parametrize('task', ['derain', 'dehaze'])
def test_derain_dehaze_toy_train_and_restore_folder(task, toy_rest,
                                                    tmp_path):
    config = osp.join(CFG_DIR, f'hqs_proxy_{task}_toy.py')
    root = osp.join(toy_rest, task)
    work = str(tmp_path / 'work')
    width = ['model.architecture.network.proxy.width=4',
             'model.architecture.network.denoiser.width=4']
    if task == 'derain':
        data = [f'train_dataloader.dataset.img_dirs={root}/train']
        gt = f'{root}/test/norain'
        inp = f'{root}/test/rain'
    else:
        data = [f'train_dataloader.dataset.rgb_dir={root}/train/RGB',
                f'train_dataloader.dataset.depth_dir={root}/train/Depth']
        gt = f'{root}/test/clear'
        inp = f'{root}/test/hazy'
    load_tool('tools/train.py').main([
        config, '--work-dir', work, '--cfg-options',
        f'val_dataloader.dataset.data_root={root}/test',
        f'test_dataloader.dataset.data_root={root}/test',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2'] + data + width)
    means = load_tool('tools/deblur.py').main([
        config, osp.join(work, 'iter_2.pth'), '--input', inp, '--out',
        str(tmp_path / 'out'), '--gt', gt, '--color', '--cfg-options'] +
        width)
    assert np.isfinite(means['PSNR']) and 0 < means['SSIM'] <= 1
    (out, ) = glob.glob(str(tmp_path / 'out' / '*.png'))
    (clean, ) = glob.glob(osp.join(gt, '*.png'))
    saved, want = cv2.imread(out), cv2.imread(clean)
    assert saved.shape == want.shape == (64, 64, 3)
    # the plain PSNR of the saved 8-bit image against the clean one
    mse = np.mean((saved / 255.0 - want / 255.0)**2)
    assert means['PSNR'] == pytest.approx(10 * np.log10(1 / mse), abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize('task', ['derain', 'dehaze'])
def test_derain_dehaze_toy_configs_run_as_published(task, toy_rest,
                                                    tmp_path):
    root = osp.join(toy_rest, task)
    data = ([f'train_dataloader.dataset.img_dirs={root}/train']
            if task == 'derain' else
            [f'train_dataloader.dataset.rgb_dir={root}/train/RGB',
             f'train_dataloader.dataset.depth_dir={root}/train/Depth'])
    load_tool('tools/train.py').main([
        osp.join(CFG_DIR, f'hqs_proxy_{task}_toy.py'), '--work-dir',
        str(tmp_path), '--cfg-options',
        f'val_dataloader.dataset.data_root={root}/test',
        f'test_dataloader.dataset.data_root={root}/test'] + data)
    _assert_trained(osp.join(CFG_DIR, f'hqs_proxy_{task}_toy.py'),
                    str(tmp_path))
