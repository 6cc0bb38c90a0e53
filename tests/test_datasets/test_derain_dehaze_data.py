"""Deraining / dehazing data (our design): synthesis models and layouts."""
import os.path as osp

import numpy as np
import pytest
import torch

from mmfusenas.datasets import (PairedRestorationDataset, SyntheticHazeDataset,
                                SyntheticRainDataset, add_haze, rain_streaks)
from mmfusenas.testing.toy_data import generate_toy_restoration


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_rest'))
    generate_toy_restoration(root, num_train=2, num_test=2, size=64)
    return root


def test_rain_streaks_and_haze_model_by_hand():
    rng = np.random.default_rng(0)
    r = rain_streaks((40, 50), rng, density=10, strength=0.5)
    assert r.shape == (40, 50) and r.min() >= 0 and r.max() <= 0.5
    assert (r > 0.05).mean() > 0.02  # visible streaks
    x = np.full((2, 2), 0.5)
    y, t = add_haze(x, np.array([[0.0, 1.0], [2.0, 0.0]]), beta=np.log(2),
                    airlight=1.0)
    np.testing.assert_allclose(t, [[1, 0.5], [0.25, 1]])
    np.testing.assert_allclose(y, [[0.5, 0.75], [0.875, 0.5]])


def test_synthetic_rain_dataset(toy):
    ds = SyntheticRainDataset(osp.join(toy, 'derain', 'train'),
                              crop_size=32, length=3, fixed=True)
    item = ds[1]
    s = item['data_samples']
    y, x, r = item['inputs'], s.gt_img, s.guidance_gt
    assert y.shape == x.shape == (3, 32, 32) and r.shape == (1, 32, 32)
    torch.testing.assert_close(y, (x + r).clamp(0, 1))
    assert torch.equal(ds[1]['inputs'], y)


def test_synthetic_haze_dataset_on_middlebury(shared_data):
    root = osp.join(shared_data, 'gisr', 'Middlebury')
    ds = SyntheticHazeDataset(osp.join(root, 'RGB'), osp.join(root, 'Depth'),
                              crop_size=48, length=2, fixed=True)
    assert len(ds.data_list) == 30
    item = ds[0]
    s = item['data_samples']
    t, a = s.guidance_gt[:1], s.guidance_gt[1:]
    assert torch.allclose(a, torch.full_like(a, s.airlight))
    want = s.gt_img * t + s.airlight * (1 - t)
    torch.testing.assert_close(item['inputs'], want)
    assert ((t > 0) & (t <= 1)).all()
    with pytest.raises(FileNotFoundError, match='no depth map'):
        SyntheticHazeDataset(osp.join(root, 'RGB'), osp.join(root, 'RGB'))


def test_paired_layouts(toy):
    rain = PairedRestorationDataset(osp.join(toy, 'derain', 'test'),
                                    'rain100')
    infos = [rain.get_data_info(i) for i in range(len(rain))]
    assert [d['stem'] for d in infos] == ['rain-001', 'rain-002']
    assert infos[0]['img_path']['gt'].endswith('norain-001.png')
    haze = PairedRestorationDataset(osp.join(toy, 'dehaze', 'test'), 'sots')
    assert all(
        osp.basename(d['img_path']['gt']) == d['stem'].split('_')[0] + '.png'
        for d in map(haze.get_data_info, range(len(haze))))
    item = haze[0]
    assert item['inputs'].shape == item['data_samples'].gt_img.shape
    with pytest.raises(ValueError, match='needs one of the folders'):
        PairedRestorationDataset(osp.join(toy, 'derain', 'test'), 'sots')
    with pytest.raises(ValueError, match='unknown layout'):
        PairedRestorationDataset(toy, 'x')
