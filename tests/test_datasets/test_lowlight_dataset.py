"""LowLightDataset layouts on the shared low-light samples, the enhancement
transforms and their errors on bad inputs."""
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from mmfusenas.datasets import (RESTORATION_LAYOUTS, LowLightDataset,
                                 detect_paired_layout)
from mmfusenas.datasets.transforms import (LoadEnhanceImages,
                                           PackEnhanceInputs, PairedRandomCrop)

PIPELINE = [dict(type='LoadEnhanceImages'), dict(type='PackEnhanceInputs')]


def dataset(root, **kwargs):
    return LowLightDataset(
        data_root=root, pipeline=PIPELINE, test_mode=True, **kwargs)


@pytest.mark.parametrize('folder,prefix,num,shape', [
    ('lol', dict(low='test', gt='gt'), 5, (400, 600)),
    ('mit', dict(low='test', gt='gt'), 5, None),
    ('LOL/eval15', dict(low='low', gt='high'), 15, (400, 600)),
    ('LOL/our485_subset', dict(low='low', gt='high'), 6, (400, 600)),
])
def test_paired_layouts(shared_data, folder, prefix, num, shape):
    root = osp.join(shared_data, 'lowlight', folder)
    assert detect_paired_layout(root, RESTORATION_LAYOUTS['lol']) == prefix
    ds = dataset(root)
    assert len(ds) == num and ds.with_gt and ds.modalities == ('low', 'gt')
    info = ds.get_data_info(0)
    assert osp.basename(info['img_path']['low']) == osp.basename(
        info['img_path']['gt'])
    item = ds[0]
    inputs, sample = item['inputs'], item['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape[0] == 3
    assert sample.gt_img.shape == inputs.shape
    assert sample.stem == info['stem']
    if shape is not None:
        assert tuple(inputs.shape[1:]) == shape == sample.img_shape
    # the pixels are the file's RGB values
    ref = np.asarray(Image.open(info['img_path']['low']).convert('RGB'))
    assert np.array_equal(inputs.permute(1, 2, 0).numpy(), ref)


def test_unpaired_layouts(shared_data):
    darkface = osp.join(shared_data, 'lowlight', 'darkface')
    ds = dataset(darkface)
    assert len(ds) == 5 and not ds.with_gt and ds.modalities == ('low', )
    assert 'gt_img' not in ds[0]['data_samples']
    # a paired folder used without its GT
    lol = osp.join(shared_data, 'lowlight', 'lol')
    assert not dataset(lol, with_gt=False).with_gt
    with pytest.raises(ValueError, match='with_gt=True'):
        dataset(darkface, with_gt=True)
    # explicit prefixes, absolute
    ds = dataset(
        '',
        data_prefix=dict(gt=osp.join(lol, 'gt'), low=osp.join(lol, 'test')))
    assert ds.modalities == ('low', 'gt')


def write(path, array, mode=None):
    Image.fromarray(array, mode).save(path)


@pytest.fixture
def pair_root(tmp_path):
    for sub in ('low', 'high'):
        (tmp_path / sub).mkdir()
    rng = np.random.default_rng(0)
    for stem in ('a', 'b'):
        for sub in ('low', 'high'):
            write(tmp_path / sub / f'{stem}.png',
                  rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    return tmp_path


def test_missing_gt_partner(pair_root):
    write(pair_root / 'low' / 'c.png', np.zeros((6, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"'c': missing in gt"):
        dataset(str(pair_root))
    assert len(dataset(str(pair_root), on_unpaired='skip')) == 2


def test_bad_images(pair_root):
    ds = dataset(str(pair_root))
    # grey (non-RGB) input: clear error, converted with strict_rgb=False
    write(pair_root / 'low' / 'a.png', np.full((6, 8), 7, np.uint8))
    with pytest.raises(ValueError, match=r"a\.png.*mode 'L'.*strict_rgb"):
        ds[0]
    loose = LoadEnhanceImages(strict_rgb=False)
    info = dataset(str(pair_root)).get_data_info(0)
    assert np.all(loose(info)['low'] == 7)
    # RGBA
    write(pair_root / 'low' / 'a.png', np.zeros((6, 8, 4), np.uint8))
    with pytest.raises(ValueError, match="mode 'RGBA'"):
        ds[0]
    # zero-byte and undecodable files
    (pair_root / 'low' / 'a.png').write_bytes(b'')
    with pytest.raises(OSError, match=r'a\.png.*empty file'):
        ds[0]
    (pair_root / 'low' / 'a.png').write_bytes(b'not a png')
    with pytest.raises(OSError, match=r'cannot decode .*a\.png'):
        ds[0]
    # a pair of different sizes
    write(pair_root / 'low' / 'a.png', np.zeros((5, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r'differ in size.*is 5x8 .*\(HxW\)'):
        ds[0]
    with pytest.raises(ValueError,
                       match=r"(?s)different sizes \(HxW\).*'a': low=5x8"):
        dataset(str(pair_root), check_sizes=True)


def test_bad_layouts_and_prefixes(tmp_path):
    with pytest.raises(FileNotFoundError, match='not a folder'):
        dataset(str(tmp_path / 'none'))
    (tmp_path / 'other').mkdir()
    with pytest.raises(ValueError, match=r"sub-folders: \['other'\]"):
        dataset(str(tmp_path))
    with pytest.raises(ValueError, match='data_prefix must be'):
        dataset(str(tmp_path), data_prefix=dict(ir='ir'))
    (tmp_path / 'low').mkdir()
    with pytest.raises(ValueError, match='holds no image'):
        dataset(str(tmp_path))


def test_paired_crop_keeps_alignment_and_packing(pair_root):
    info = dataset(str(pair_root)).get_data_info(1)
    results = LoadEnhanceImages()(info)
    low, gt = results['low'].copy(), results['gt'].copy()
    np.random.seed(0)
    results = PairedRandomCrop(crop_size=(4, 5))(results)
    x0, y0, x1, y1 = results['crop_bbox']
    assert np.array_equal(results['low'], low[y0:y1, x0:x1])
    assert np.array_equal(results['gt'], gt[y0:y1, x0:x1])
    packed = PackEnhanceInputs()(results)
    assert packed['inputs'].shape == (3, 4, 5)
    assert torch.equal(packed['data_samples'].gt_img,
                       torch.from_numpy(gt[y0:y1, x0:x1]).permute(2, 0, 1))
    assert packed['data_samples'].img_shape == (4, 5)
    with pytest.raises(KeyError, match='LoadEnhanceImages first'):
        PackEnhanceInputs()({'gt': gt})
