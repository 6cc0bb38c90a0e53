"""Haze (RESIDE) and underwater (UIEB) datasets and their toy generators."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmfusenas.datasets import HazeDataset, UnderwaterDataset
from mmfusenas.testing.toy_data import (add_underwater, draw_haze,
                                        generate_toy_haze,
                                        generate_toy_underwater)
from mmfusenas.testing.toy_data.restoration import load_rgbd


def _img(path, value=0, size=(6, 5)):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(
        path)


def test_haze_dataset_reside_naming(tmp_path):
    root = str(tmp_path / 'sots')
    for name in ['1400_1.png', '1400_2.png', '1401_1_0.9.png', '77.png']:
        _img(osp.join(root, 'hazy', name))
    for name in ['1400.png', '1401.png', '77.png', '9999.png']:
        _img(osp.join(root, 'GT', name))
    ds = HazeDataset(data_root=root)
    pairs = {
        d['stem']: osp.basename(d['img_path']['gt'])
        for d in ds.load_data_list()
    }
    assert pairs == {
        '1400_1': '1400.png',
        '1400_2': '1400.png',
        '1401_1_0.9': '1401.png',
        '77': '77.png'
    }
    assert ds.with_gt
    # hazy only
    assert not HazeDataset(data_root=root, with_gt=False).with_gt


def test_haze_dataset_unpaired_is_an_error_naming_the_file(tmp_path):
    root = str(tmp_path / 'h')
    _img(osp.join(root, 'hazy', '5_1.png'))
    _img(osp.join(root, 'clear', '6.png'))
    _img(osp.join(root, 'hazy', '6_1.png'))
    with pytest.raises(ValueError, match='5_1.png'):
        HazeDataset(data_root=root)
    ds = HazeDataset(data_root=root, on_unpaired='skip')
    assert [d['stem'] for d in ds.load_data_list()] == ['6_1']
    with pytest.raises(ValueError, match='no paired layout'):
        HazeDataset(data_root=str(tmp_path), with_gt=True)


def test_underwater_dataset_uieb_layout(tmp_path):
    root = str(tmp_path / 'UIEB')
    for name in ['1_img_.png', '2_img_.png']:
        _img(osp.join(root, 'raw-890', name))
        _img(osp.join(root, 'reference-890', name))
    _img(osp.join(root, 'raw-890', '3_img_.png'))
    with pytest.raises(ValueError, match='3_img_'):
        UnderwaterDataset(data_root=root)
    ds = UnderwaterDataset(data_root=root, on_unpaired='skip')
    assert [d['stem'] for d in ds.load_data_list()] == ['1_img_', '2_img_']
    only = str(tmp_path / 'c')
    _img(osp.join(only, 'challenging-60', 'a.png'))
    assert not UnderwaterDataset(data_root=only).with_gt


def test_draw_haze_follows_the_scattering_model():
    rng = np.random.default_rng(3)
    clear = np.random.default_rng(0).integers(0, 256, (8, 9, 3)).astype(
        np.uint8)
    depth = np.linspace(0, 1, 72).reshape(8, 9)
    hazy, p = draw_haze(clear, depth, rng)
    t = np.exp(-p['beta'] * depth)[..., None]
    expected = clear / 255.0 * t + p['airlight'] * (1 - t)
    assert np.abs(hazy / 255.0 - expected).max() <= 0.5 / 255 + 1e-9
    assert 1.0 <= p['beta'] <= 2.5 and 0.7 <= p['airlight'] <= 1.0
    # at depth 0 the image is untouched
    assert np.array_equal(hazy[0, 0], clear[0, 0])


def test_add_underwater_attenuates_red_first():
    rng = np.random.default_rng(1)
    clear = np.full((4, 4, 3), 200, np.uint8)
    far = np.full((4, 4), 8.0)
    raw, p = add_underwater(clear, far, rng, noise_std=0.0)
    beta, water = np.array(p['beta']), np.array(p['water'])
    assert beta[0] > beta[1] > beta[2]
    t = np.exp(-8.0 * beta)
    expected = 200 / 255 * t + water * (1 - t)
    assert np.abs(raw[0, 0] / 255.0 - expected).max() <= 0.5 / 255 + 1e-9
    # the red channel loses the most
    assert raw[0, 0, 0] < raw[0, 0, 1] and raw[0, 0, 0] < raw[0, 0, 2]


def test_toy_generators_are_deterministic_and_load(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    info = generate_toy_haze(a, num_train=2, num_val=1, size=32,
                             source='toy')
    generate_toy_haze(b, num_train=2, num_val=1, size=32, source='toy')
    for split, n in (('train', 2), ('val', 1)):
        for sub in ('hazy', 'clear'):
            names = sorted(os.listdir(osp.join(a, split, sub)))
            assert len(names) == n
            for name in names:
                assert np.array_equal(
                    np.array(Image.open(osp.join(a, split, sub, name))),
                    np.array(Image.open(osp.join(b, split, sub, name))))
    assert info['source'] == 'toy' and len(info['params']) == 3
    assert len(HazeDataset(data_root=osp.join(a, 'train'))) == 2
    u = str(tmp_path / 'u')
    generate_toy_underwater(u, num_train=1, num_val=1, size=32, source='toy')
    ds = UnderwaterDataset(data_root=osp.join(u, 'val'))
    raw = np.array(Image.open(ds.get_data_info(0)['img_path']['low']))
    ref = np.array(Image.open(ds.get_data_info(0)['img_path']['gt']))
    # the water veil shifts the mean colour from red towards blue-green
    shift = raw.reshape(-1, 3).mean(0) - ref.reshape(-1, 3).mean(0)
    assert shift[0] < shift[2]
    with pytest.raises(FileNotFoundError, match='RGB-D pairs'):
        generate_toy_haze(str(tmp_path / 'x'), source='rgbd',
                          rgbd_root=str(tmp_path / 'none'))


def test_toy_haze_on_real_rgbd_is_denser_far_away(shared_data, tmp_path):
    root = osp.join(shared_data, 'gisr', 'RGBDD_subset40')
    if not osp.isdir(root):
        pytest.skip(f'{root} absent')
    out = str(tmp_path / 'h')
    info = generate_toy_haze(out, num_train=1, num_val=0, size=64,
                             source='rgbd', rgbd_root=root)
    assert info['source'] == 'rgbd'
    import glob
    rgb = sorted(glob.glob(osp.join(root, 'RGB', '*_RGB.jpg')))[0]
    stem = osp.basename(rgb)[:-len('_RGB.jpg')]
    dep = osp.join(root, 'Depth', f'{stem}_HR_gt.png')
    clear, depth = load_rgbd(rgb, dep, 64)
    hazy = np.array(Image.open(osp.join(out, 'train', 'hazy', '00000.png')))
    stored = np.array(Image.open(osp.join(out, 'train', 'clear', '00000.png')))
    assert np.array_equal(stored, clear)
    # the real depth drives the transmission: I = J t + A (1 - t)
    p = info['params'][0]
    t = np.exp(-p['beta'] * depth)[..., None]
    expected = clear / 255.0 * t + p['airlight'] * (1 - t)
    assert np.abs(hazy / 255.0 - expected).max() <= 0.5 / 255 + 1e-9
    assert depth.min() == 0 and depth.max() == 1 and depth.std() > 0.1


def test_named_ground_truth_split_files_and_extra_gt(tmp_path):
    """Haze pairs by RESIDE names also with a split file; extra clear images
    are allowed, an extra LOL ground truth is an error naming it."""
    root = str(tmp_path / 'h')
    for name in ['1_1.png', '1_2.png', '2_1.png']:
        _img(osp.join(root, 'hazy', name))
    for name in ['1.png', '2.png', '3.png']:
        _img(osp.join(root, 'clear', name))
    with open(osp.join(root, 'split.txt'), 'w') as f:
        f.write('2_1\n1_2\n')
    ds = HazeDataset(data_root=root, ann_file='split.txt')
    assert [(d['stem'], osp.basename(d['img_path']['gt']))
            for d in ds.load_data_list()] == [('1_2', '1.png'),
                                              ('2_1', '2.png')]
    with open(osp.join(root, 'split.txt'), 'a') as f:
        f.write('9_9\n')
    with pytest.raises(ValueError, match="'9_9'"):
        HazeDataset(data_root=root, ann_file='split.txt')
    lol = str(tmp_path / 'lol')
    _img(osp.join(lol, 'low', 'a.png'))
    _img(osp.join(lol, 'high', 'a.png'))
    _img(osp.join(lol, 'high', 'b.png'))
    from mmfusenas.datasets import LowLightDataset
    with pytest.raises(ValueError, match=r"'b': missing in low"):
        LowLightDataset(data_root=lol)
