"""Tests of the paired loading, geometric and packing transforms."""
import copy
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.runner import set_random_seed

from mmfusenas.datasets import PairedImageDataset
from mmfusenas.datasets.transforms import (LoadPairedImages,
                                           PackFusionInputs,
                                           PairedRandomCrop,
                                           PairedRandomFlip,
                                           PairedRandomRot90, PairedResize)
from mmfusenas.datasets.transforms import loading as loading_module
from mmfusenas.registry import TRANSFORMS
from mmfusenas.structures import FusionDataSample
from helpers.damaged_files import JPEG_DAMAGE, write_damaged_jpeg


def write(path, arr):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    assert cv2.imwrite(str(path), arr)
    return str(path)


def sample(tmp_path, arrays, stem='a'):
    """Write ``arrays`` (modality -> BGR / gray array) and return results."""
    paths = {
        mod: write(tmp_path / mod / f'{stem}.png', arr)
        for mod, arr in arrays.items()
    }
    return dict(img_path=paths, stem=stem, modalities=tuple(arrays))


def rand_img(rng, shape):
    return rng.integers(0, 256, shape, dtype=np.uint8)


def results_of(**arrays):
    """A loaded-results dict holding ``arrays`` as modalities."""
    h, w = next(iter(arrays.values())).shape[:2]
    out = dict(arrays)
    out.update(
        modalities=tuple(arrays),
        img_shape=(h, w),
        ori_shape=(h, w),
        stem='s',
        img_path={m: f'/data/{m}/s.png'
                  for m in arrays})
    return out


# ---------------------------------------------------------------------------
# LoadPairedImages
# ---------------------------------------------------------------------------
def test_load_auto_colour_handling(tmp_path):
    rng = np.random.default_rng(0)
    g = rand_img(rng, (6, 7))
    bgr = rand_img(rng, (6, 7, 3))
    results = sample(
        tmp_path,
        dict(ir=np.stack([g, g, g], -1), vi=bgr, gr=g))  # TNO-like ir
    out = LoadPairedImages()(copy.deepcopy(results))
    assert out['ir'].shape == (6, 7, 1) and out['ir'].dtype == np.uint8
    np.testing.assert_array_equal(out['ir'][..., 0], g)
    np.testing.assert_array_equal(out['vi'], bgr[..., ::-1])  # RGB order
    np.testing.assert_array_equal(out['gr'][..., 0], g)
    assert out['modalities'] == ('ir', 'vi', 'gr')
    assert out['color_modality'] == 'vi'
    assert out['img_shape'] == out['ori_shape'] == (6, 7)
    assert out['stem'] == 'a'
    assert out['img_path'] == results['img_path']
    assert all(out[m].flags.c_contiguous for m in ('ir', 'vi', 'gr'))


def test_load_forced_colour_types(tmp_path):
    rng = np.random.default_rng(1)
    g = rand_img(rng, (5, 4))
    bgr = rand_img(rng, (5, 4, 3))
    results = sample(tmp_path, dict(ir=g, vi=bgr))

    out = LoadPairedImages(color_type='gray')(copy.deepcopy(results))
    np.testing.assert_array_equal(out['vi'][..., 0],
                                  cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    assert out['vi'].shape == (5, 4, 1)
    assert out['color_modality'] is None

    out = LoadPairedImages(color_type='color')(copy.deepcopy(results))
    assert out['ir'].shape == (5, 4, 3)
    np.testing.assert_array_equal(out['ir'], np.stack([g, g, g], -1))
    np.testing.assert_array_equal(out['vi'], bgr[..., ::-1])
    assert out['color_modality'] == 'ir'  # the first 3-channel modality

    out = LoadPairedImages(color_type=dict(vi='gray'))(copy.deepcopy(results))
    assert (out['ir'].shape, out['vi'].shape) == ((5, 4, 1), (5, 4, 1))

    with pytest.raises(KeyError, match=r"color_type names \['VIS'\]"):
        LoadPairedImages(color_type=dict(VIS='gray'))(copy.deepcopy(results))
    with pytest.raises(ValueError, match='color_type must be one of'):
        LoadPairedImages(color_type='grey')
    with pytest.raises(ValueError, match='color_type must be one of'):
        LoadPairedImages(color_type=dict(vi='rgb'))
    with pytest.raises(ValueError, match='gray_tolerance'):
        LoadPairedImages(gray_tolerance=-1)


def test_load_gray_tolerance(tmp_path):
    g = np.tile(np.arange(100, 110, dtype=np.uint8), (4, 1))
    near = np.stack([g, g + 2, g + 1], -1)  # channels differ by <= 2
    far = np.stack([g, g + 3, g], -1)  # by 3
    results = sample(tmp_path, dict(near=near, far=far))
    out = LoadPairedImages()(copy.deepcopy(results))
    assert out['near'].shape == (4, 10, 1)
    np.testing.assert_array_equal(out['near'][..., 0],
                                  cv2.cvtColor(near, cv2.COLOR_BGR2GRAY))
    assert out['far'].shape == (4, 10, 3)
    assert out['color_modality'] == 'far'
    out = LoadPairedImages(gray_tolerance=0)(copy.deepcopy(results))
    assert out['near'].shape == (4, 10, 3)
    assert out['color_modality'] == 'near'
    out = LoadPairedImages(gray_tolerance=3)(copy.deepcopy(results))
    assert out['color_modality'] is None


def test_load_size_mismatch_names_both_files(tmp_path):
    results = sample(
        tmp_path,
        dict(ir=np.zeros((6, 8), np.uint8), vi=np.zeros((6, 9, 3),
                                                        np.uint8)))
    with pytest.raises(ValueError) as err:
        LoadPairedImages()(results)
    assert str(err.value) == (
        'LoadPairedImages: the images of a pair differ in size: '
        f"{results['img_path']['ir']!r} (ir) is 6x8 (HxW) but "
        f"{results['img_path']['vi']!r} (vi) is 6x9; expected registered "
        'images of identical size.')


def test_load_bad_files(tmp_path, monkeypatch):
    results = sample(tmp_path, dict(ir=np.zeros((4, 4), np.uint8)))
    missing = str(tmp_path / 'vi' / 'a.png')
    results['img_path']['vi'] = missing
    results['modalities'] = ('ir', 'vi')
    with pytest.raises(FileNotFoundError,
                       match=f"{missing!r} \\(modality 'vi'\\) does not"):
        LoadPairedImages()(copy.deepcopy(results))

    os.makedirs(tmp_path / 'vi')
    with open(missing, 'wb') as f:
        f.write(b'\x89PNG broken')
    with pytest.raises(OSError, match=f'cannot decode image {missing!r}'):
        LoadPairedImages()(copy.deepcopy(results))

    # a JPEG cut short: OpenCV would decode it with grey filling the rest
    jpeg = str(tmp_path / 'vi' / 'cut.jpg')
    cv2.imwrite(jpeg, np.random.default_rng(0).integers(
        0, 256, (64, 64), np.uint8))
    with open(jpeg, 'rb') as f:
        data = f.read()
    with open(jpeg, 'wb') as f:
        f.write(data[:len(data) // 2])
    cut = dict(copy.deepcopy(results), img_path=dict(
        results['img_path'], vi=jpeg))
    with pytest.raises(OSError, match=f"modality 'vi'.*image {jpeg!r} is "
                       'truncated'):
        LoadPairedImages()(cut)

    write(missing, np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=r'has 4 channels \(array shape '
                       r'\(4, 4, 4\)\); expected 1 \(gray\) or 3'):
        LoadPairedImages()(copy.deepcopy(results))

    write(missing, np.zeros((4, 4), np.uint16))
    with pytest.raises(ValueError, match='type uint16 .16-bit.; only 8-bit'):
        LoadPairedImages()(copy.deepcopy(results))

    # OpenCV returns 2-channel arrays for some TIFFs; emulate one
    real_decode = loading_module.decode_image
    with open(missing, 'rb') as f:
        missing_bytes = f.read()

    def fake_decode(content, *args, **kwargs):
        if content == missing_bytes:
            return np.zeros((4, 4, 2), np.uint8)
        return real_decode(content, *args, **kwargs)

    monkeypatch.setattr(loading_module, 'decode_image', fake_decode)
    with pytest.raises(ValueError) as err:
        LoadPairedImages()(copy.deepcopy(results))
    assert f"{missing!r} (modality 'vi') has 2 channels" in str(err.value)


@pytest.mark.parametrize('how', JPEG_DAMAGE)
def test_load_refuses_a_corrupt_jpeg_that_keeps_its_end_marker(tmp_path,
                                                               how):
    """A JPEG cut to a third with ``FF D9`` appended, or with its middle
    third zeroed: OpenCV decodes it mostly grey; the loader refuses it,
    naming the modality and the file."""
    results = sample(tmp_path, dict(ir=rand_img(np.random.default_rng(1),
                                                (64, 80))))
    jpeg = write_damaged_jpeg(tmp_path / 'vi' / 'a.jpg', how)
    results['img_path']['vi'] = jpeg
    results['modalities'] = ('ir', 'vi')
    with pytest.raises(OSError) as err:
        LoadPairedImages()(results)
    assert str(err.value).startswith(
        f"LoadPairedImages (modality 'vi'): image {jpeg!r} is corrupt "
        '(libjpeg: Corrupt JPEG data')


def test_load_requires_img_path_dict():
    with pytest.raises(KeyError, match='must be a non-empty dict'):
        LoadPairedImages()(dict(img_path='a.png'))
    with pytest.raises(KeyError, match=r"modalities .*vi.* have no entry"):
        LoadPairedImages()(
            dict(img_path=dict(ir='a.png'), modalities=('ir', 'vi')))


# ---------------------------------------------------------------------------
# geometric transforms: exact behaviour
# ---------------------------------------------------------------------------
def test_crop_exact_window():
    rng = np.random.default_rng(2)
    ir, vi = rand_img(rng, (10, 12, 1)), rand_img(rng, (10, 12, 3))
    mask = rand_img(rng, (10, 12))
    res = results_of(ir=ir.copy(), vi=vi.copy())
    res['mask'] = mask.copy()
    res['seg_fields'] = ['mask']
    np.random.seed(0)
    out = PairedRandomCrop(crop_size=(4, 5))(res)
    x1, y1, x2, y2 = out['crop_bbox']
    assert (x2 - x1, y2 - y1) == (5, 4)
    assert out['img_shape'] == (4, 5) and out['ori_shape'] == (10, 12)
    np.testing.assert_array_equal(out['ir'], ir[y1:y2, x1:x2])
    np.testing.assert_array_equal(out['vi'], vi[y1:y2, x1:x2])
    np.testing.assert_array_equal(out['mask'], mask[y1:y2, x1:x2])
    # every position is reachable
    seen = set()
    for seed in range(300):
        np.random.seed(seed)
        seen.add(PairedRandomCrop(8)(results_of(ir=ir.copy()))['crop_bbox'])
    assert seen == {(x, y, x + 8, y + 8) for x in range(5) for y in range(3)}


def test_crop_too_small_and_padding():
    ir, vi = np.full((3, 4, 1), 9, np.uint8), np.full((3, 4, 3), 5, np.uint8)
    with pytest.raises(ValueError) as err:
        PairedRandomCrop(crop_size=(4, 4))(results_of(ir=ir, vi=vi))
    assert str(err.value).startswith(
        "PairedRandomCrop: sample 's' ({'ir': '/data/ir/s.png', 'vi': "
        "'/data/vi/s.png'}) is 3x4 (HxW), smaller than crop_size 4x4")

    res = results_of(ir=ir, vi=vi)
    res['mask'] = np.full((3, 4), 1, np.uint8)
    res['seg_fields'] = ['mask']
    out = PairedRandomCrop(
        crop_size=(5, 4), pad_if_needed=True, seg_pad_val=255)(res)
    assert out['crop_bbox'] == (0, 0, 4, 5)
    assert out['ir'].shape == (5, 4, 1) and out['vi'].shape == (5, 4, 3)
    np.testing.assert_array_equal(out['ir'][:3], 9)
    np.testing.assert_array_equal(out['ir'][3:], 0)
    np.testing.assert_array_equal(out['vi'][3:], 0)
    np.testing.assert_array_equal(out['mask'][3:], 255)
    np.testing.assert_array_equal(out['mask'][:3], 1)
    with pytest.raises(ValueError, match='positive int'):
        PairedRandomCrop(crop_size=(0, 3))


def test_flip_exact():
    rng = np.random.default_rng(3)
    ir, vi = rand_img(rng, (4, 6, 1)), rand_img(rng, (4, 6, 3))
    expected = {
        'horizontal': lambda a: a[:, ::-1],
        'vertical': lambda a: a[::-1],
        'diagonal': lambda a: a[::-1, ::-1]
    }
    for direction, fn in expected.items():
        out = PairedRandomFlip(prob=1., direction=direction)(
            results_of(ir=ir.copy(), vi=vi.copy()))
        assert out['flip'] is True and out['flip_direction'] == direction
        np.testing.assert_array_equal(out['ir'], fn(ir))
        np.testing.assert_array_equal(out['vi'], fn(vi))
        assert out['ir'].flags.c_contiguous and out['vi'].flags.c_contiguous
    out = PairedRandomFlip(prob=0.)(results_of(ir=ir.copy()))
    assert out['flip'] is False and out['flip_direction'] is None
    np.testing.assert_array_equal(out['ir'], ir)


def test_flip_probabilities():
    counts = {'horizontal': 0, 'vertical': 0, None: 0}
    flip = PairedRandomFlip(prob=0.5, direction=['horizontal', 'vertical'])
    np.random.seed(0)
    for _ in range(4000):
        out = flip(results_of(ir=np.zeros((2, 2, 1), np.uint8)))
        counts[out['flip_direction']] += 1
    # prob / len(direction) each, 1 - prob none
    assert abs(counts['horizontal'] / 4000 - 0.25) < 0.03
    assert abs(counts['vertical'] / 4000 - 0.25) < 0.03
    assert abs(counts[None] / 4000 - 0.5) < 0.03
    flip = PairedRandomFlip(prob=[0.1, 0.9], direction=['vertical',
                                                        'horizontal'])
    np.random.seed(0)
    dirs = [
        flip(results_of(ir=np.zeros((2, 2, 1), np.uint8)))['flip_direction']
        for _ in range(2000)
    ]
    assert None not in dirs
    assert abs(dirs.count('vertical') / 2000 - 0.1) < 0.03
    with pytest.raises(ValueError, match='direction must be one of'):
        PairedRandomFlip(direction='sideways')
    with pytest.raises(ValueError, match='one entry per direction'):
        PairedRandomFlip(prob=[0.5], direction=['horizontal', 'vertical'])
    with pytest.raises(ValueError, match='sum to at most 1'):
        PairedRandomFlip(prob=[0.6, 0.6], direction=['horizontal',
                                                     'vertical'])


def test_rot90_exact():
    rng = np.random.default_rng(4)
    ir, vi = rand_img(rng, (4, 6, 1)), rand_img(rng, (4, 6, 3))
    ks = set()
    for seed in range(60):
        np.random.seed(seed)
        out = PairedRandomRot90(prob=1.)(results_of(ir=ir.copy(),
                                                    vi=vi.copy()))
        k = out['rot90_k']
        ks.add(k)
        np.testing.assert_array_equal(out['ir'], np.rot90(ir, k))
        np.testing.assert_array_equal(out['vi'], np.rot90(vi, k))
        assert out['img_shape'] == ((6, 4) if k % 2 else (4, 6))
        assert out['vi'].flags.c_contiguous
    assert ks == {1, 2, 3}
    out = PairedRandomRot90(prob=0.)(results_of(ir=ir.copy()))
    assert out['rot90_k'] == 0 and out['img_shape'] == (4, 6)
    np.testing.assert_array_equal(out['ir'], ir)
    # np.rot90 with k=1 turns counter-clockwise: top-right goes top-left
    a = np.zeros((2, 3, 1), np.uint8)
    a[0, 2] = 1
    np.random.seed(0)
    while True:
        out = PairedRandomRot90(prob=1.)(results_of(ir=a.copy()))
        if out['rot90_k'] == 1:
            break
    assert out['ir'][0, 0, 0] == 1 and out['ir'].sum() == 1
    with pytest.raises(ValueError, match='prob must be in'):
        PairedRandomRot90(prob=1.5)


def test_resize_sizes_and_records():
    ir = np.zeros((100, 200, 1), np.uint8)
    vi = np.zeros((100, 200, 3), np.uint8)
    out = PairedResize(scale=(50, 40))(results_of(ir=ir, vi=vi))
    assert out['ir'].shape == (40, 50, 1) and out['vi'].shape == (40, 50, 3)
    assert out['img_shape'] == (40, 50)
    assert out['scale'] == (50, 40)
    assert out['scale_factor'] == (0.25, 0.4)
    assert out['ori_shape'] == (100, 200)

    out = PairedResize(scale=(100, 100), keep_ratio=True)(
        results_of(ir=ir, vi=vi))
    assert out['img_shape'] == (50, 100)  # long edge 200 -> 100
    assert out['scale_factor'] == (0.5, 0.5)
    out = PairedResize(scale=(1000, 300), keep_ratio=True)(
        results_of(ir=ir, vi=vi))
    assert out['img_shape'] == (300, 600)  # short edge 100 -> 300 limits

    out = PairedResize(scale_factor=0.333)(results_of(ir=ir, vi=vi))
    assert out['img_shape'] == (33, 67)
    out = PairedResize(scale_factor=(2., 0.5))(results_of(ir=ir, vi=vi))
    assert out['img_shape'] == (50, 400)
    assert out['scale_factor'] == (2., 0.5)
    assert out['ir'].shape == (50, 400, 1)

    with pytest.raises(ValueError, match='exactly one of scale'):
        PairedResize()
    with pytest.raises(ValueError, match='exactly one of scale'):
        PairedResize(scale=10, scale_factor=2.)
    with pytest.raises(ValueError, match='interpolation must be one of'):
        PairedResize(scale=10, interpolation='linear')
    with pytest.raises(ValueError, match='contradicts'):
        PairedResize(scale_factor=(1., 2.), keep_ratio=True)


def test_resize_values_and_masks():
    rng = np.random.default_rng(5)
    ir = rand_img(rng, (12, 16, 1))
    vi = rand_img(rng, (12, 16, 3))
    mask = (rand_img(rng, (12, 16)) > 127).astype(np.uint8) * 255
    res = results_of(ir=ir, vi=vi)
    res['mask'] = mask
    res['seg_fields'] = ['mask']
    out = PairedResize(scale=(7, 5), interpolation='bicubic')(res)
    np.testing.assert_array_equal(
        out['ir'][..., 0],
        cv2.resize(ir, (7, 5), interpolation=cv2.INTER_CUBIC))
    np.testing.assert_array_equal(
        out['vi'], cv2.resize(vi, (7, 5), interpolation=cv2.INTER_CUBIC))
    np.testing.assert_array_equal(
        out['mask'], cv2.resize(mask, (7, 5),
                                interpolation=cv2.INTER_NEAREST))
    assert set(np.unique(out['mask'])) <= {0, 255}


def test_geometric_errors():
    with pytest.raises(KeyError, match='run LoadPairedImages first'):
        PairedRandomFlip()(dict(ir=np.zeros((2, 2, 1))))
    res = results_of(ir=np.zeros((4, 4, 1), np.uint8))
    res['seg_fields'] = ['mask']
    with pytest.raises(KeyError, match="no array 'mask'"):
        PairedRandomRot90()(res)
    res['mask'] = np.zeros((4, 5), np.uint8)
    with pytest.raises(ValueError,
                       match=r"'mask' has shape \(4, 5\), but 'ir' is "):
        PairedResize(scale=2)(res)


# ---------------------------------------------------------------------------
# alignment over many random seeds
# ---------------------------------------------------------------------------
def track(y, x, h, w, out):
    """Where pixel (y, x) of an h x w input lands, from the records."""
    x1, y1, x2, y2 = out['crop_bbox']
    if not (x1 <= x < x2 and y1 <= y < y2):
        return None
    y, x, h, w = y - y1, x - x1, y2 - y1, x2 - x1
    if out['flip_direction'] in ('vertical', 'diagonal'):
        y = h - 1 - y
    if out['flip_direction'] in ('horizontal', 'diagonal'):
        x = w - 1 - x
    for _ in range(out['rot90_k']):  # counter-clockwise quarter turns
        y, x, h, w = w - 1 - x, y, w, h
    return y, x


def test_marked_pixel_stays_aligned_over_seeds():
    h, w = 23, 31
    pipeline = Compose([
        PairedRandomCrop(crop_size=(16, 20)),
        PairedRandomFlip(prob=0.75, direction=['horizontal', 'vertical',
                                               'diagonal']),
        PairedRandomRot90(prob=0.75),
        PairedResize(scale_factor=2., interpolation='nearest'),
    ])
    rng = np.random.default_rng(6)
    inside = 0
    for seed in range(300):
        y, x = int(rng.integers(h)), int(rng.integers(w))
        ir = np.zeros((h, w, 1), np.uint8)
        vi = np.zeros((h, w, 3), np.uint8)
        mask = np.zeros((h, w), np.uint8)
        ir[y, x] = 255
        vi[y, x] = (10, 200, 30)
        mask[y, x] = 1
        res = results_of(ir=ir, vi=vi)
        res['mask'] = mask
        res['seg_fields'] = ['mask']
        np.random.seed(seed)
        out = pipeline(res)
        assert out['ir'].shape[:2] == out['vi'].shape[:2] == \
            out['mask'].shape == out['img_shape']
        where_ir = np.argwhere(out['ir'][..., 0] == 255)
        where_vi = np.argwhere(np.all(out['vi'] == (10, 200, 30), -1))
        where_mask = np.argwhere(out['mask'] == 1)
        expected = track(y, x, h, w, out)
        if expected is None:
            assert len(where_ir) == len(where_vi) == len(where_mask) == 0
            continue
        inside += 1
        ey, ex = expected
        block = [[2 * ey + dy, 2 * ex + dx] for dy in (0, 1) for dx in (0, 1)]
        assert where_ir.tolist() == block
        assert where_vi.tolist() == block
        assert where_mask.tolist() == block
        assert out['ir'].sum() == 4 * 255
    assert inside > 100


def test_bilinear_pipeline_keeps_channels_registered():
    # VIS red channel == IR: after any random pipeline they stay equal
    pipeline = Compose([
        PairedRandomCrop(crop_size=(24, 28)),
        PairedRandomFlip(prob=0.5, direction=['horizontal', 'vertical']),
        PairedRandomRot90(prob=0.5),
        PairedResize(scale=(17, 13)),
    ])
    rng = np.random.default_rng(7)
    for seed in range(100):
        ir = rand_img(rng, (30, 40, 1))
        vi = rand_img(rng, (30, 40, 3))
        vi[..., 0] = ir[..., 0]
        np.random.seed(seed)
        out = pipeline(results_of(ir=ir, vi=vi))
        assert out['ir'].shape == (13, 17, 1)
        np.testing.assert_array_equal(out['vi'][..., 0], out['ir'][..., 0])


# ---------------------------------------------------------------------------
# packing
# ---------------------------------------------------------------------------
def test_pack_types_and_shapes():
    rng = np.random.default_rng(8)
    ir, vi = rand_img(rng, (5, 6, 1)), rand_img(rng, (5, 6, 3))
    res = results_of(vi=np.rot90(vi).copy()[::-1], ir=np.rot90(ir)[::-1])
    assert not res['ir'].flags.c_contiguous
    res.update(sample_idx=3, color_modality='vi', rot90_k=1, extra='x')
    packed = PackFusionInputs()(res)
    assert set(packed) == {'inputs', 'data_samples'}
    inputs = packed['inputs']
    assert list(inputs) == ['vi', 'ir']  # modality order
    assert inputs['ir'].dtype == inputs['vi'].dtype == torch.uint8
    assert inputs['ir'].shape == (1, 6, 5) and inputs['vi'].shape == (3, 6, 5)
    assert inputs['ir'].is_contiguous() and inputs['vi'].is_contiguous()
    np.testing.assert_array_equal(inputs['ir'].numpy(),
                                  res['ir'].transpose(2, 0, 1))
    np.testing.assert_array_equal(inputs['vi'].numpy(),
                                  res['vi'].transpose(2, 0, 1))
    ds = packed['data_samples']
    assert isinstance(ds, FusionDataSample)
    assert ds.metainfo == dict(
        sample_idx=3,
        stem='s',
        img_path=res['img_path'],
        ori_shape=(6, 5),
        img_shape=(6, 5),
        modalities=('vi', 'ir'),
        color_modality='vi',
        rot90_k=1)
    packed = PackFusionInputs(meta_keys=('stem', 'extra'))(res)
    assert packed['data_samples'].metainfo == dict(stem='s', extra='x')
    res['ir'] = res['ir'][..., 0]  # a 2-D array packs as (1, H, W)
    assert PackFusionInputs()(res)['inputs']['ir'].shape == (1, 6, 5)
    with pytest.raises(TypeError, match=r"results\['ir'\] must be"):
        PackFusionInputs()(dict(modalities=('ir', ), ir=None))


def test_transforms_registered_and_built_from_config():
    for name, cls in (('LoadPairedImages', LoadPairedImages),
                      ('PairedRandomCrop', PairedRandomCrop),
                      ('PairedRandomFlip', PairedRandomFlip),
                      ('PairedRandomRot90', PairedRandomRot90),
                      ('PairedResize', PairedResize),
                      ('PackFusionInputs', PackFusionInputs)):
        assert TRANSFORMS.get(name) is cls
    crop = TRANSFORMS.build(dict(type='PairedRandomCrop', crop_size=7))
    assert crop.crop_size == (7, 7)
    assert repr(crop) == ('PairedRandomCrop(crop_size=(7, 7), '
                          'pad_if_needed=False, pad_val=0, seg_pad_val=0)')


# ---------------------------------------------------------------------------
# whole pipeline on real images
# ---------------------------------------------------------------------------
TRAIN_PIPELINE = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(96, 128)),
    dict(type='PairedRandomFlip', prob=0.5,
         direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PairedResize', scale=(64, 64)),
    dict(type='PackFusionInputs'),
]


def test_real_pipeline_is_deterministic_under_a_seed(shared_data):
    ds = PairedImageDataset(
        data_root=osp.join(shared_data, 'fusion/RoadScene'),
        pipeline=TRAIN_PIPELINE)

    def run(seed):
        set_random_seed(seed)
        return [ds[i] for i in (0, 7, 21)]

    first, again, other = run(123), run(123), run(124)
    for a, b in zip(first, again):
        assert a['data_samples'].metainfo == b['data_samples'].metainfo
        for mod in ('ir', 'vi'):
            assert torch.equal(a['inputs'][mod], b['inputs'][mod])
    assert [o['data_samples'].crop_bbox for o in first] != \
        [o['data_samples'].crop_bbox for o in other]
    out = first[1]
    assert out['inputs']['ir'].shape == (1, 64, 64)
    assert out['inputs']['vi'].shape == (3, 64, 64)
    meta = out['data_samples']
    assert meta.stem == ds.get_data_info(7)['stem']
    assert meta.sample_idx == 7
    assert meta.color_modality == 'vi'
    assert meta.img_shape == (64, 64)
    assert meta.scale_factor == ((64 / 96, 64 / 128) if meta.rot90_k % 2
                                 else (64 / 128, 64 / 96))


def test_real_pipeline_medical_crop_matches_source(shared_data):
    ds = PairedImageDataset(
        data_root=osp.join(shared_data, 'fusion/MRI_SPECT'),
        pipeline=[
            dict(type='LoadPairedImages'),
            dict(type='PairedRandomCrop', crop_size=64),
            dict(type='PackFusionInputs')
        ])
    set_random_seed(0)
    out = ds[5]
    meta = out['data_samples']
    x1, y1, x2, y2 = meta.crop_bbox
    mri = cv2.imread(meta.img_path['mri'], cv2.IMREAD_UNCHANGED)
    spect = cv2.imread(meta.img_path['spect'], cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(out['inputs']['mri'][0].numpy(),
                                  mri[y1:y2, x1:x2, 0])
    np.testing.assert_array_equal(
        out['inputs']['spect'].numpy(),
        spect[y1:y2, x1:x2, ::-1].transpose(2, 0, 1))
