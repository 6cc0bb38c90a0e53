"""Synthetic misalignment (RandomElasticAffineWarp): seeded fields, the
stored ground truth registers the warped image back, packing, and the
order check against the geometric transforms."""
import os.path as osp

import numpy as np
import pytest
import torch

from mmfusenas.datasets import PairedImageDataset
from mmfusenas.datasets.transforms import (PackFusionDetInputs,
                                           PackFusionInputs,
                                           PairedRandomFlip,
                                           RandomElasticAffineWarp,
                                           random_affine_elastic_field)
from mmfusenas.models.registration import warp_image


def sample(h=40, w=48, stem='a', seed=0):
    rng = np.random.default_rng(seed)
    ir = (rng.random((h, w, 1)) * 255).astype(np.uint8)
    vi = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    return dict(ir=ir, vi=vi, modalities=('ir', 'vi'), stem=stem,
                img_shape=(h, w), ori_shape=(h, w))


def test_fixed_seed_gives_one_warp_per_stem():
    warp = RandomElasticAffineWarp(seed=3)
    a = warp(sample(stem='x'))
    b = warp(sample(stem='x'))
    c = warp(sample(stem='y'))
    np.testing.assert_array_equal(a['gt_flow'], b['gt_flow'])
    np.testing.assert_array_equal(a['ir'], b['ir'])
    assert not np.allclose(a['gt_flow'], c['gt_flow'])
    assert a['gt_flow'].shape == (40, 48, 2) and a['gt_flow'].dtype == \
        np.float32
    assert a['ir'].shape == (40, 48, 1) and a['ir'].dtype == np.uint8
    # only the moving modality changes
    np.testing.assert_array_equal(a['vi'], sample()['vi'])
    assert a['warped_modality'] == 'ir'


def test_unseeded_warps_follow_numpy_global_seed():
    warp = RandomElasticAffineWarp()
    np.random.seed(7)
    a = warp(sample())['gt_flow']
    b = warp(sample())['gt_flow']
    np.random.seed(7)
    c = warp(sample())['gt_flow']
    np.testing.assert_array_equal(a, c)
    assert not np.allclose(a, b)


def test_field_magnitudes_follow_the_options():
    rng = np.random.default_rng(0)
    # a pure translation of 10 % of the width at most
    field = random_affine_elastic_field(
        50, 100, rng, max_rotation=0, max_scale=0, max_shear=0,
        max_translation=0.1, elastic_magnitude=0)
    assert np.ptp(field[..., 0]) < 1e-4 and abs(field[0, 0, 0]) <= 10
    # elastic only: the peak is within [0.5, 1] x magnitude x shorter side
    field = random_affine_elastic_field(
        50, 100, rng, max_rotation=0, max_scale=0, max_shear=0,
        max_translation=0, elastic_magnitude=0.1)
    peak = np.abs(field).max()
    assert 2.5 - 1e-4 <= peak <= 5.0 + 1e-4


def test_reference_size_scales_a_crop_like_the_whole_image():
    """With reference_size the fractions are of the reference: a 20 px crop
    gets translations up to 10 % of a 200 px image (20 px, not 2 px), and a
    rotation about a random centre inside the reference is a rotation about
    the crop centre plus the translation of its lever arm."""
    rng = np.random.default_rng(0)
    shifts = []
    for _ in range(50):
        field = random_affine_elastic_field(
            20, 20, rng, max_rotation=0, max_scale=0, max_shear=0,
            max_translation=0.1, elastic_magnitude=0,
            reference_size=(200, 200))
        assert np.ptp(field[..., 0]) < 1e-4
        shifts.append(np.abs(field[0, 0]).max())
    assert max(shifts) <= 20 + 1e-4 and max(shifts) > 10
    # rotation only: the field is affine with the rotation's linear part
    # (its x-derivative is cos - 1 / sin), whatever the centre
    rot = []
    for _ in range(50):
        field = random_affine_elastic_field(
            20, 20, rng, max_rotation=3, max_scale=0, max_shear=0,
            max_translation=0, elastic_magnitude=0,
            reference_size=(200, 200))
        du = field[:, 1:] - field[:, :-1]
        theta = np.arctan2(du[..., 1].mean(), 1 + du[..., 0].mean())
        assert np.ptp(du[..., 0]) < 1e-4 and np.ptp(du[..., 1]) < 1e-4
        assert abs(np.rad2deg(theta)) <= 3 + 1e-3
        rot.append(np.abs(field).mean())
    # the lever arm: displacements far above what a 3 degree rotation
    # about the 20 px crop's own centre gives (< 0.75 px)
    assert max(rot) > 2.0
    with pytest.raises(ValueError, match='reference_size'):
        RandomElasticAffineWarp(reference_size=(0, 10))
    out = RandomElasticAffineWarp(seed=0, reference_size=(64, 64))(sample())
    assert out['gt_flow'].shape == (40, 48, 2)
    assert 'reference_size=(64, 64)' in repr(RandomElasticAffineWarp(
        reference_size=(64, 64)))


def test_prob_zero_leaves_the_pair_aligned():
    out = RandomElasticAffineWarp(prob=0.0, seed=0)(sample())
    np.testing.assert_array_equal(out['ir'], sample()['ir'])
    assert not out['gt_flow'].any()


def test_errors_are_named():
    with pytest.raises(KeyError, match="modality 'nir'"):
        RandomElasticAffineWarp(key='nir')(sample())
    with pytest.raises(ValueError, match='elastic_sigma'):
        RandomElasticAffineWarp(elastic_sigma=0)
    warped = RandomElasticAffineWarp(seed=0)(sample())
    with pytest.raises(ValueError, match='after the geometric transforms'):
        PairedRandomFlip(prob=1.0)(warped)
    with pytest.raises(ValueError, match='already misaligned'):
        RandomElasticAffineWarp(seed=0)(warped)


def test_packers_carry_the_ground_truth_field():
    warped = RandomElasticAffineWarp(seed=0)(sample())
    packed = PackFusionInputs()(dict(warped))
    flow = packed['data_samples'].gt_flow
    assert flow.shape == (2, 40, 48) and flow.dtype == torch.float32
    torch.testing.assert_close(
        flow, torch.from_numpy(warped['gt_flow']).permute(2, 0, 1))
    assert packed['data_samples'].warped_modality == 'ir'
    det = dict(warped, gt_bboxes=np.zeros((0, 4), np.float32),
               gt_bboxes_labels=np.zeros(0, np.int64),
               gt_ignore_flags=np.zeros(0, bool))
    assert PackFusionDetInputs()(det)['data_samples'].gt_flow.shape == \
        (2, 40, 48)
    assert 'gt_flow' not in PackFusionInputs()(sample())['data_samples']


def test_ground_truth_registers_a_real_tno_pair(shared_data):
    """On a real TNO pair the stored field undoes the warp: the IR image
    warped back with gt_flow (the registration target) matches the
    original to within the resampling error, far below the misalignment."""
    root = osp.join(shared_data, 'fusion', 'TNO')
    pipeline = [
        dict(type='LoadPairedImages'),
        dict(type='RandomElasticAffineWarp', key='ir', seed=0,
             elastic_magnitude=0.02),
        dict(type='PackFusionInputs'),
    ]
    dataset = PairedImageDataset(
        data_root=root, data_prefix=dict(ir='ir', vi='vi'), ann_file='',
        pipeline=pipeline, test_mode=True)
    aligned = PairedImageDataset(
        data_root=root, data_prefix=dict(ir='ir', vi='vi'), ann_file='',
        pipeline=[dict(type='LoadPairedImages'),
                  dict(type='PackFusionInputs')], test_mode=True)
    out, ref = dataset[0], aligned[0]
    moving = out['inputs']['ir'].float()[None] / 255
    orig = ref['inputs']['ir'].float()[None] / 255
    flow = out['data_samples'].gt_flow[None]
    assert flow.abs().max() > 5  # a real misalignment of several pixels
    back = warp_image(moving, flow)
    inner = (..., slice(40, -40), slice(40, -40))
    err_before = (moving - orig)[inner].abs().mean()
    err_after = (back - orig)[inner].abs().mean()
    assert err_after < 0.25 * err_before, (err_before, err_after)
    assert err_after < 0.02
    # the same stem gets the same warp in a new dataset instance
    again = PairedImageDataset(
        data_root=root, data_prefix=dict(ir='ir', vi='vi'), ann_file='',
        pipeline=pipeline, test_mode=True)[0]
    torch.testing.assert_close(again['data_samples'].gt_flow,
                               out['data_samples'].gt_flow)
