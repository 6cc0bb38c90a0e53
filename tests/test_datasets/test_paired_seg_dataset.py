"""Tests of PairedSegDataset: MSRS layout, toy masks, MFNet 4-channel PNGs."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmseg.datasets import BaseSegDataset
from mmseg.structures import SegDataSample

from mmfusenas.datasets import (MFNET_CHANNELS, MFNET_CLASSES, MFNET_PALETTE,
                                PairedSegDataset)
from mmfusenas.datasets.transforms import (LoadPairedAnnotations,
                                           LoadPairedImages,
                                           PackFusionSegInputs)
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset

LOAD = [
    dict(type='LoadPairedImages'),
    dict(
        type='LoadPairedAnnotations',
        with_bbox=False,
        with_label=False,
        with_seg=True)
]


def write(path, arr):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    assert cv2.imwrite(str(path), arr)
    return str(path)


@pytest.fixture
def msrs_root(shared_data, tmp_path):
    """MSRS layout linking msrs17's images; masks_binary as label folder."""
    src = osp.join(shared_data, 'detection/msrs17')
    os.symlink(osp.join(src, 'ir'), tmp_path / 'Infrared')
    os.symlink(osp.join(src, 'vi'), tmp_path / 'Visible')
    os.symlink(osp.join(src, 'masks_binary'), tmp_path / 'Segmentation_labels')
    return str(tmp_path)


def test_msrs_layout_with_binary_masks(msrs_root):
    ds = PairedSegDataset(
        data_root=msrs_root,
        on_missing_ann='skip',  # masks exist for 8 of the 17 pairs
        label_map={255: 1},
        metainfo=dict(classes=('background', 'target')),
        pipeline=LOAD)
    assert len(ds) == 8
    assert ds.modalities == ('ir', 'vi')  # auto-detected Infrared/Visible
    assert ds.metainfo['classes'] == ('background', 'target')
    # no palette given: mmseg's seeded one, a colour per class
    assert len(ds.metainfo['palette']) == 2
    assert isinstance(ds, BaseSegDataset)
    out = ds[0]
    assert out['stem'] == '00001D'
    raw = cv2.imread(
        osp.join(msrs_root, 'Segmentation_labels', '00001D.png'),
        cv2.IMREAD_UNCHANGED)
    seg = out['gt_seg_map']
    assert seg.dtype == np.uint8 and seg.shape == (480, 640)
    np.testing.assert_array_equal(seg, (raw == 255).astype(np.uint8))
    assert out['seg_fields'] == ['gt_seg_map']
    assert out['ir'].shape == (480, 640, 1) and out['vi'].shape == (480, 640,
                                                                    3)


def test_msrs_missing_masks_are_an_error_by_default(msrs_root):
    with pytest.raises(ValueError, match=r"9 sample\(s\) have no annotation "
                       r"file.*\n  '00024N'"):
        PairedSegDataset(data_root=msrs_root, label_map={255: 1})


def test_binary_masks_without_label_map_fail_the_range_check(msrs_root):
    ds = PairedSegDataset(
        data_root=msrs_root, on_missing_ann='skip', ignore_index=0,
        metainfo=dict(classes=('background', 'target')), pipeline=LOAD)
    with pytest.raises(ValueError, match=r'00001D.png.* has labels \[255\] '
                       r'\(raw values \[255\]\) outside \[0, 2\)'):
        ds[0]


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_seg'))
    generate_toy_dataset(root, num=6, seed=1, size=64)
    return root


def test_toy_masks_with_split(toy_root):
    classes = ('background', 'person', 'car', 'bicycle', 'cone')
    ds = PairedSegDataset(
        data_root=toy_root,
        data_prefix=dict(ir='ir', vi='vi'),
        seg_map_dir='masks',
        ann_file='splits/val.txt',
        metainfo=dict(classes=classes),
        pipeline=LOAD)
    with open(osp.join(toy_root, 'splits/val.txt')) as f:
        val = sorted(line.strip() for line in f if line.strip())
    assert [ds.get_data_info(i)['stem'] for i in range(len(ds))] == val
    info = ds.get_data_info(0)
    assert info['num_classes'] == 5 and info['ignore_index'] == 255
    assert info['reduce_zero_label'] is False and info['label_map'] is None
    assert 'img_channels' not in info
    for i in range(len(ds)):
        out = ds[i]
        raw = cv2.imread(
            osp.join(toy_root, 'masks', out['stem'] + '.png'),
            cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(out['gt_seg_map'], raw)


def test_reduce_zero_label_and_label_map(tmp_path):
    root = str(tmp_path)
    write(tmp_path / 'ir' / 'a.png', np.zeros((2, 4), np.uint8))
    write(tmp_path / 'vi' / 'a.png', np.zeros((2, 4), np.uint8))
    write(tmp_path / 'lab' / 'a.png',
          np.array([[0, 1, 2, 255], [3, 3, 1, 0]], np.uint8))
    kwargs = dict(
        data_root=root, data_prefix=dict(ir='ir', vi='vi'),
        seg_map_dir='lab', pipeline=LOAD)
    seg = PairedSegDataset(
        reduce_zero_label=True, metainfo=dict(classes=('x', 'y', 'z')),
        **kwargs)[0]['gt_seg_map']
    np.testing.assert_array_equal(seg, [[255, 0, 1, 255], [2, 2, 0, 255]])
    ds = PairedSegDataset(
        reduce_zero_label=True, label_map={3: 255, 255: 0},
        metainfo=dict(classes=('x', 'y')), **kwargs)
    np.testing.assert_array_equal(ds[0]['gt_seg_map'],
                                  [[255, 0, 1, 0], [255, 255, 0, 255]])
    assert ds.metainfo['reduce_zero_label'] is True
    assert ds.metainfo['label_map'] == {3: 255, 255: 0}


def make_mfnet(root, stems, h=12, w=16):
    rng = np.random.default_rng(0)
    data = {}
    for stem in stems:
        rgbt = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        label = rng.integers(0, 9, (h, w), dtype=np.uint8)
        # cv2 writes B, G, R, A order: store R, G, B, T as MFNet does
        write(osp.join(root, 'images', stem + '.png'), rgbt[..., [2, 1, 0, 3]])
        write(osp.join(root, 'labels', stem + '.png'), label)
        data[stem] = (rgbt, label)
    return data


def test_mfnet_four_channel_images(tmp_path):
    root = str(tmp_path)
    data = make_mfnet(root, ['00001D', '00002N', '00003N'])
    ds = PairedSegDataset(
        data_root=root,
        data_prefix=dict(vi='images', ir='images'),
        img_channels=MFNET_CHANNELS,
        seg_map_dir='labels',
        pipeline=LOAD + [dict(type='PackFusionSegInputs')])
    assert len(ds) == 3
    assert ds.metainfo['classes'] == MFNET_CLASSES and len(MFNET_CLASSES) == 9
    assert ds.metainfo['palette'] == MFNET_PALETTE
    info = ds.get_data_info(1)
    assert info['img_path']['vi'] == info['img_path']['ir']
    assert info['img_channels'] == dict(vi=(0, 1, 2), ir=(3, ))
    for i, stem in enumerate(sorted(data)):
        rgbt, label = data[stem]
        packed = ds[i]
        vi, ir = packed['inputs']['vi'], packed['inputs']['ir']
        assert vi.shape == (3, 12, 16) and ir.shape == (1, 12, 16)
        np.testing.assert_array_equal(vi.permute(1, 2, 0).numpy(),
                                      rgbt[..., :3])
        np.testing.assert_array_equal(ir[0].numpy(), rgbt[..., 3])
        sample = packed['data_samples']
        assert isinstance(sample, SegDataSample)
        assert sample.modalities == ('vi', 'ir')
        assert sample.color_modality == 'vi'
        assert sample.gt_sem_seg.data.dtype == torch.int64
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      label)


def test_img_channels_errors(tmp_path):
    root = str(tmp_path)
    make_mfnet(root, ['a'])
    kwargs = dict(data_root=root, data_prefix=dict(vi='images', ir='images'),
                  seg_map_dir='labels')
    with pytest.raises(ValueError, match=r"img_channels names \['rgb'\]"):
        PairedSegDataset(img_channels=dict(rgb=(0, 1, 2)), **kwargs)
    ds = PairedSegDataset(img_channels=dict(vi=(0, 1, 2), ir=(4, )),
                          pipeline=[dict(type='LoadPairedImages')], **kwargs)
    with pytest.raises(ValueError, match=r"img_channels\['ir'\] = \(4,\) "
                       'does not fit .*a.png.*4 channel'):
        ds[0]
    # without img_channels the 4-channel file is refused as before
    ds = PairedSegDataset(pipeline=[dict(type='LoadPairedImages')], **kwargs)
    with pytest.raises(ValueError, match='has 4 channels'):
        ds[0]


def test_label_file_errors(tmp_path):
    root = str(tmp_path)
    for mod in ('ir', 'vi'):
        write(tmp_path / mod / 'a.png', np.zeros((4, 6), np.uint8))
    results = dict(
        stem='a', seg_map_path=str(tmp_path / 'a_lab.png'), num_classes=9)
    load = LoadPairedAnnotations(with_bbox=False, with_label=False,
                                 with_seg=True)
    with pytest.raises(FileNotFoundError, match='a_lab.png'):
        load(dict(results))
    write(tmp_path / 'a_lab.png', np.zeros((4, 6), np.uint16))
    with pytest.raises(ValueError, match='a_lab.png.* is uint16'):
        load(dict(results))
    colour = np.zeros((4, 6, 3), np.uint8)
    colour[0, 0] = (1, 2, 3)
    write(tmp_path / 'a_lab.png', colour)
    with pytest.raises(ValueError, match='shape \\(4, 6, 3\\)'):
        load(dict(results))
    write(tmp_path / 'a_lab.png', np.full((4, 6, 3), 2, np.uint8))
    assert (load(dict(results))['gt_seg_map'] == 2).all()  # equal channels
    with open(tmp_path / 'a_lab.png', 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(ValueError, match='cannot decode label map'):
        load(dict(results))
    write(tmp_path / 'a_lab.png', np.zeros((5, 6), np.uint8))
    loaded = LoadPairedImages()(
        dict(img_path=dict(ir=str(tmp_path / 'ir' / 'a.png'),
                           vi=str(tmp_path / 'vi' / 'a.png'))))
    with pytest.raises(ValueError, match=r'a_lab.png.* is 5x6 \(HxW\) but '
                       'the images .* are 4x6'):
        load(dict(loaded, **results))
    with pytest.raises(KeyError, match='no "seg_map_path"'):
        load(dict(stem='a'))


def test_palette_and_argument_errors(tmp_path):
    root = str(tmp_path)
    make_mfnet(root, ['a'])
    kwargs = dict(data_root=root, data_prefix=dict(vi='images', ir='images'),
                  img_channels=MFNET_CHANNELS, seg_map_dir='labels')
    with pytest.raises(ValueError, match='palette has 1 colours for 2'):
        PairedSegDataset(
            metainfo=dict(classes=('a', 'b'), palette=[[1, 2, 3]]), **kwargs)
    with pytest.raises(ValueError, match='ignore_index must be an int'):
        PairedSegDataset(ignore_index=-1, **kwargs)
    with pytest.raises(ValueError, match='label_map must map ints'):
        PairedSegDataset(label_map={300: 1}, **kwargs)
    with pytest.raises(ValueError, match='on_missing_ann must be one of'):
        PairedSegDataset(on_missing_ann='empty', **kwargs)
    write(osp.join(root, 'labels', 'zz.png'), np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match=r'no paired image.*\n.*zz.png'):
        PairedSegDataset(**kwargs)
    assert len(PairedSegDataset(on_orphan_ann='ignore', **kwargs)) == 1
    with pytest.raises(ValueError, match='on_orphan_ann must be one of'):
        PairedSegDataset(on_orphan_ann='skip', **kwargs)


def fcn_cfg(num_classes):
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            size_divisor=32),
        backbone=dict(
            type='ResNetV1c', depth=18, out_indices=(3, ), init_cfg=None),
        decode_head=dict(
            type='FCNHead',
            in_channels=512,
            in_index=0,
            channels=16,
            num_convs=1,
            num_classes=num_classes,
            norm_cfg=dict(type='BN')),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def test_packed_sample_trains_an_mmseg_segmentor(msrs_root, one_thread):
    from mmseg.registry import MODELS as SEG_MODELS
    torch.manual_seed(0)
    ds = PairedSegDataset(
        data_root=msrs_root,
        on_missing_ann='skip',
        label_map={255: 1},
        metainfo=dict(classes=('background', 'target')),
        pipeline=LOAD + [
            dict(type='PairedResize', scale_factor=0.1),
            dict(type='PackFusionSegInputs')
        ])
    packed = [ds[0], ds[1]]
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = SEG_MODELS.build(fcn_cfg(2))
    # the fusion step is the model's job; here: mean of vi (RGB) and ir
    imgs = [((p['inputs']['vi'].float() + p['inputs']['ir'].float()) /
             2).to(torch.uint8) for p in packed]
    samples = [p['data_samples'] for p in packed]
    assert samples[0].gt_sem_seg.data.shape == (1, 48, 64)
    assert set(samples[0].gt_sem_seg.data.unique().tolist()) <= {0, 1}
    data = model.data_preprocessor(
        dict(inputs=imgs, data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert 'decode.loss_ce' in losses
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()


def test_pack_seg_without_map_and_bad_map():
    results = dict(
        modalities=('ir', ),
        ir=np.zeros((3, 4, 1), np.uint8),
        img_shape=(3, 4),
        ori_shape=(3, 4),
        stem='s',
        reduce_zero_label=False)
    sample = PackFusionSegInputs()(dict(results))['data_samples']
    assert 'gt_sem_seg' not in sample and sample.reduce_zero_label is False
    with pytest.raises(ValueError, match=r'gt_seg_map"\] of sample .s. must '
                       r'be an \(H, W\) array'):
        PackFusionSegInputs()(dict(results, gt_seg_map=np.zeros((3, 4, 2))))


def test_mmseg_suffixes_label_folder_and_old_keys(tmp_path):
    root = str(tmp_path)
    for mod in ('ir', 'vi'):
        write(tmp_path / mod / 'a.png', np.zeros((2, 2), np.uint8))
    kwargs = dict(data_root=root, data_prefix=dict(ir='ir', vi='vi'))
    with pytest.raises(FileNotFoundError, match=r"label folder '.*lab' does "
                       r'not exist; expected one <stem>_L.png'):
        PairedSegDataset(seg_map_dir='lab', seg_map_suffix='_L.png', **kwargs)
    # a multi-part suffix as mmseg's, compared case-insensitively
    write(tmp_path / 'lab' / 'a_l.PNG', np.zeros((2, 2), np.uint8))
    ds = PairedSegDataset(seg_map_dir='lab', seg_map_suffix='_L.png',
                          **kwargs)
    assert ds.get_data_info(0)['seg_map_path'].endswith('a_l.PNG')
    assert ds.metainfo['ignore_index'] == 255
    with pytest.raises(ValueError, match="label folder is seg_map_dir; "
                       "mmseg's img_suffix"):
        PairedSegDataset(seg_map_dir='lab', img_suffix='.png', **kwargs)
    with pytest.raises(ValueError, match='label folder is seg_map_dir'):
        PairedSegDataset(data_root=root, data_prefix=dict(
            ir='ir', vi='vi', seg_map_path='lab'))
    with pytest.raises(ValueError, match='palette has 2 colours for 9'):
        PairedSegDataset(seg_map_dir='lab', metainfo=dict(palette=[[0] * 3] *
                                                          2), **kwargs)
