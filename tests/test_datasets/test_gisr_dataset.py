"""GISR datasets, degradation transforms and the toy RGB-D generator."""
import math
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from PIL import Image

from mmfusenas.datasets import GISRDataset
from mmfusenas.datasets.transforms import (GISRDegrade, GISRModCrop,
                                           read_depth, resize_depth)
from mmfusenas.testing.toy_data import generate_toy_rgbd

init_default_scope('mmfusenas')

PIPE = [
    dict(type='LoadGISRSample'),
    dict(type='GISRModCrop', multiple=32),
    dict(type='GISRDegrade', scale=4),
    dict(type='PackGISRInputs')
]


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_rgbd'))
    generate_toy_rgbd(root, 3, 2, 1, seed=0, size=64)
    return root


def test_toy_generator_layout_and_edges(toy_root):
    ds = GISRDataset(osp.join(toy_root, 'train'), pipeline=PIPE)
    assert len(ds) == 3
    info = ds.get_data_info(0)
    assert info['sample_id'] == 'train0000' and info['lr_path'] is None
    depth = cv2.imread(info['depth_path'], cv2.IMREAD_UNCHANGED)
    rgb = cv2.imread(info['rgb_path'])
    assert depth.dtype == np.uint16 and depth.min() >= 1
    # depth edges appear in the RGB: where depth jumps by > 100 mm, the
    # RGB changes far more than on average
    jump = np.abs(np.diff(depth.astype(float), axis=1)) > 100
    dr = np.abs(np.diff(rgb.astype(float), axis=1)).sum(-1)
    assert jump.any() and dr[jump].mean() > 2 * dr[~jump].mean()
    # RGB texture without depth edges: many RGB edges where depth is smooth
    assert (dr[~jump] > 15).sum() > 100
    # same seed, same files
    again = osp.join(toy_root, 'again')
    generate_toy_rgbd(again, 3, 0, 0, seed=0, size=64)
    assert np.array_equal(
        cv2.imread(osp.join(again, 'train', 'Depth', 'train0001_HR_gt.png'),
                   cv2.IMREAD_UNCHANGED),
        cv2.imread(osp.join(toy_root, 'train', 'Depth',
                            'train0001_HR_gt.png'), cv2.IMREAD_UNCHANGED))


def test_toy_search_val_split_leaves_other_splits_unchanged(
        toy_root, tmp_path):
    root = str(tmp_path / 'with_sv')
    counts = generate_toy_rgbd(root, 3, 2, 1, seed=0, size=64,
                               num_search_val=3)
    assert counts == dict(train=3, val=2, test=1, search_val=3)
    for split, sid in (('train', 'train0002'), ('val', 'val0001'),
                       ('test', 'test0000')):
        for sub, suffix in (('Depth', '_HR_gt.png'), ('RGB', '_RGB.png')):
            a = cv2.imread(osp.join(root, split, sub, sid + suffix),
                           cv2.IMREAD_UNCHANGED)
            b = cv2.imread(osp.join(toy_root, split, sub, sid + suffix),
                           cv2.IMREAD_UNCHANGED)
            assert np.array_equal(a, b), (split, sub)
    ds = GISRDataset(osp.join(root, 'search_val'), pipeline=PIPE)
    assert [ds.get_data_info(i)['sample_id'] for i in range(3)] == [
        'search_val0000', 'search_val0001', 'search_val0002']
    # new scenes, not copies of the test scene
    sv = cv2.imread(osp.join(root, 'search_val', 'Depth',
                             'search_val0000_HR_gt.png'), cv2.IMREAD_UNCHANGED)
    assert not np.array_equal(sv, cv2.imread(osp.join(
        root, 'test', 'Depth', 'test0000_HR_gt.png'), cv2.IMREAD_UNCHANGED))
    assert not osp.isdir(osp.join(toy_root, 'search_val'))
    with pytest.raises(ValueError, match='>= 0'):
        generate_toy_rgbd(str(tmp_path / 'neg'), 1, 1, 1, num_search_val=-1)


def test_pairing_errors_and_split_file(toy_root, tmp_path):
    root = tmp_path / 'bad'
    (root / 'RGB').mkdir(parents=True)
    (root / 'Depth').mkdir()
    cv2.imwrite(str(root / 'RGB' / 'a_RGB.png'), np.zeros((32, 32, 3)))
    cv2.imwrite(str(root / 'RGB' / 'b_RGB.png'), np.zeros((32, 32, 3)))
    cv2.imwrite(str(root / 'Depth' / 'a_HR_gt.png'),
                np.ones((32, 32), np.uint16))
    with pytest.raises(ValueError, match=r"without a partner.*\['b'\]"):
        GISRDataset(str(root))
    with pytest.raises(FileNotFoundError, match='make_toy_rgbd'):
        GISRDataset(str(tmp_path / 'nothing'))
    split = osp.join(toy_root, 'train', 'sub.txt')
    with open(split, 'w') as f:
        f.write('train0002\ntrain0000\n')
    ds = GISRDataset(osp.join(toy_root, 'train'), split_file='sub.txt')
    assert [ds.get_data_info(i)['sample_id'] for i in range(2)] == [
        'train0002', 'train0000'
    ]
    with open(split, 'w') as f:
        f.write('nope\n')
    with pytest.raises(ValueError, match='nope'):
        GISRDataset(osp.join(toy_root, 'train'), split_file='sub.txt')


def _gisr_root(root, ids, lr_ids=()):
    for d in ('RGB', 'Depth') + (('DepthLR', ) if lr_ids else ()):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i in ids:
        cv2.imwrite(str(root / 'RGB' / f'{i}_RGB.png'), np.zeros((8, 8, 3)))
        cv2.imwrite(str(root / 'Depth' / f'{i}_HR_gt.png'),
                    np.ones((8, 8), np.uint16))
    for i in lr_ids:
        cv2.imwrite(str(root / 'DepthLR' / f'{i}_LR_fill_depth.png'),
                    np.ones((2, 2), np.uint16))
    return root


def test_lr_folder_must_pair_with_every_sample(tmp_path):
    root = _gisr_root(tmp_path / 'ok', ['a', 'b'], ['a', 'b'])
    ds = GISRDataset(str(root))
    assert ds.get_data_info(1)['lr_path'].endswith('b_LR_fill_depth.png')
    lr_dir = osp.join(str(tmp_path / 'rgb_only'), 'DepthLR')
    _gisr_root(tmp_path / 'rgb_only', ['a', 'b'], ['a'])
    with pytest.raises(ValueError,
                       match=re.escape(lr_dir) + r".*\['b'\]"):
        GISRDataset(str(tmp_path / 'rgb_only'))
    lr_dir = osp.join(str(tmp_path / 'lr_only'), 'DepthLR')
    _gisr_root(tmp_path / 'lr_only', ['a'], ['a', 'z'])
    with pytest.raises(ValueError,
                       match=re.escape(lr_dir) + r".*\['z'\]"):
        GISRDataset(str(tmp_path / 'lr_only'))


def test_split_file_not_utf8_or_repeated_ids(tmp_path):
    root = _gisr_root(tmp_path, ['a', 'b'])
    split = tmp_path / 'split.txt'
    split.write_bytes(b'a\n\xff\xfe\n')
    with pytest.raises(ValueError, match=re.escape(str(split)) + '.*UTF-8'):
        GISRDataset(str(root), split_file='split.txt')
    split.write_text('a\nb\na\n')
    with pytest.raises(ValueError,
                       match=re.escape(str(split)) + r".*\['a'\]"):
        GISRDataset(str(root), split_file='split.txt')


def _npy_bytes(arr):
    import io
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@pytest.mark.parametrize('content', [
    b'not a numpy file', b'', _npy_bytes(np.ones((3, 3)))[:-10],
    _npy_bytes(np.array([['a', 'b'], ['c', 'd']])),
    _npy_bytes(np.array([[1.0, np.nan], [1.0, 2.0]])),
    _npy_bytes(np.array([[1.0, np.inf], [1.0, 2.0]])),
    _npy_bytes(np.array([[1.0, 1e300], [1.0, 2.0]])),
])
def test_bad_npy_depth_is_an_error_naming_it(tmp_path, content):
    path = tmp_path / 'd.npy'
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        read_depth(str(path))


def test_degradation_conventions():
    rng = np.random.default_rng(0)
    gt = rng.uniform(500, 3000, (64, 96)).astype(np.float32)
    res = dict(gt=gt, rgb=np.full((64, 96, 3), 255, np.uint8),
               sample_id='x')
    out = GISRDegrade(scale=8, resize='pil').transform(dict(res))
    # official PIL path: bicubic 'F' image to ceil(H/s)
    lr_ref = np.asarray(
        Image.fromarray(gt, 'F').resize((12, 8), Image.BICUBIC))
    lo, hi = lr_ref.min(), lr_ref.max()
    assert out['lr'].shape == (8, 12)
    np.testing.assert_allclose(out['lr'], (lr_ref - lo) / (hi - lo),
                               rtol=1e-6, atol=1e-6)
    assert out['norm_min'] == pytest.approx(lo)
    assert out['lr_up'].shape == (64, 96)
    # leak-free default: statistics of the LR; official: of the GT
    off = GISRDegrade(scale=8, norm='gt_minmax').transform(dict(res))
    assert off['norm_min'] == pytest.approx(float(gt.min()))
    assert off['gt_norm'].min() == pytest.approx(0.0)
    fixed = GISRDegrade(
        scale=8, norm='fixed', depth_range=(0, 10000)).transform(dict(res))
    np.testing.assert_allclose(fixed['gt_norm'], gt / 10000, rtol=1e-6)
    # RGB: /255 then ImageNet-normalised, channels first
    np.testing.assert_allclose(out['rgb'][:, 0, 0],
                               (1 - np.array([.485, .456, .406])) /
                               np.array([.229, .224, .225]), rtol=1e-6)
    # seeded noise is a function of (seed, sample id)
    n1 = GISRDegrade(8, noise_std=5 / 255, noise_seed=1).transform(dict(res))
    n2 = GISRDegrade(8, noise_std=5 / 255, noise_seed=1).transform(dict(res))
    assert np.array_equal(n1['lr'], n2['lr'])
    assert abs(float((n1['lr'] - out['lr']).std()) - 5 / 255) < 0.01
    # resize variants differ and keep the size
    for mode in ('cv2', 'torch'):
        assert resize_depth(gt, (8, 12), mode).shape == (8, 12)
    assert math.isclose(
        float(resize_depth(np.full((8, 8), 3.0, np.float32), (2, 2),
                           'torch').mean()), 3.0, rel_tol=1e-6)
    with pytest.raises(ValueError, match='depth_range'):
        GISRDegrade(norm='fixed')


def test_modcrop_centre():
    res = dict(gt=np.arange(70 * 40, dtype=np.float32).reshape(70, 40),
               rgb=np.zeros((70, 40, 3), np.uint8))
    out = GISRModCrop(32).transform(res)
    assert out['gt'].shape == (64, 32)
    assert out['gt'][0, 0] == 3 * 40 + 4


REAL = [('Middlebury', 30, 255.0, None), ('Lu', 6, 255.0, None),
        ('NYUDepthv2_Test', 3, 10.0, None), ('RGBDD_subset40', 40, 65535.0,
                                             None),
        ('RGBDD_Test_Realscene', 3, 65535.0, 'lr')]


@pytest.mark.parametrize('name,n,vmax,lr', REAL)
def test_real_layouts(shared_data, name, n, vmax, lr):
    ds = GISRDataset(osp.join(shared_data, 'gisr', name), pipeline=PIPE)
    assert len(ds) == n
    sample = ds[0]
    gt = sample['data_samples']['gt']
    h, w = gt.shape[-2:]
    assert h % 32 == 0 and w % 32 == 0
    assert 0 < float(gt.max()) <= vmax
    assert sample['inputs']['rgb'].shape == (3, h, w)
    if lr:
        info = ds.get_data_info(0)
        assert info['lr_path'] is not None
        real = read_depth(info['lr_path'])
        assert real.shape == (144, 192)


def test_nyu_is_metres(shared_data):
    d = read_depth(
        osp.join(shared_data, 'gisr', 'NYUDepthv2_Test', 'Depth',
                 '1000.npy'))
    assert d.shape == (480, 640) and 0.5 < float(d.mean()) < 6.0


def test_pack_batches_with_default_collate(toy_root):
    from mmengine.dataset import default_collate
    ds = GISRDataset(osp.join(toy_root, 'val'), pipeline=PIPE)
    batch = default_collate([ds[0], ds[1]])
    assert batch['inputs']['lr_up'].shape == (2, 1, 64, 64)
    assert batch['data_samples']['norm_min'].dtype == torch.float64
    assert batch['data_samples']['sample_id'] == ['val0000', 'val0001']


def test_crop_and_augment_keep_rgb_and_depth_aligned():
    from mmfusenas.datasets.transforms import GISRAugment, GISRRandomCrop
    h, w = 40, 50
    gt = np.arange(h * w, dtype=np.float32).reshape(h, w)
    rgb = np.stack([gt, gt + 1, gt + 2], -1)  # rgb[..., 0] == gt everywhere
    np.random.seed(0)
    for _ in range(20):
        res = GISRRandomCrop(16).transform(dict(gt=gt, rgb=rgb))
        res = GISRAugment().transform(res)
        assert res['gt'].shape == (16, 16)
        assert np.array_equal(res['rgb'][..., 0], res['gt'])
    # transpose only: gt becomes gt.T
    out = GISRAugment(hflip=0, vflip=0, transpose=1).transform(
        dict(gt=gt, rgb=rgb))
    assert np.array_equal(out['gt'], gt.T)
    with pytest.raises(ValueError, match='patch_size'):
        GISRRandomCrop(64).transform(dict(gt=gt, rgb=rgb))
