"""Deblurring data: kernels, synthesis (valid blur, padding, edgetaper),
the synthetic training set and the Levin benchmark."""
import io
import os.path as osp
import re

import numpy as np
import pytest
import torch
from scipy.signal import fftconvolve

from mmfusenas.datasets import (BlurredImageDataset, LevinDataset,
                                SyntheticDeblurDataset, blur,
                                edgetaper, edgetaper_alpha, load_kernels,
                                motion_blur_kernel, pad_for_kernel,
                                pad_kernel, quantize_uint8)
from mmfusenas.datasets.transforms import LoadLevinMat
from mmfusenas.models import circular_conv2d, psf2otf


def test_edgetaper_hand_cases():
    rng = np.random.default_rng(0)
    img = rng.random((20, 24))
    delta = np.zeros((3, 3))
    delta[1, 1] = 1
    # delta kernel: the blurred copy is the image itself
    np.testing.assert_allclose(edgetaper(img, delta), img, atol=1e-12)
    # alpha of a 1x1 kernel: 0 on the border rows / columns, 1 inside
    a = edgetaper_alpha(np.ones((1, 1)), (5, 6))
    want = np.outer([0, 1, 1, 1, 0], [0, 1, 1, 1, 1, 0])
    np.testing.assert_allclose(a, want, atol=1e-6)
    # a constant image stays constant for any normalised kernel
    k = motion_blur_kernel(9, rng)
    np.testing.assert_allclose(edgetaper(np.full((30, 30), 0.3), k), 0.3,
                               atol=1e-6)
    # far from the border (alpha == 1) nothing changes; the wrap-around
    # jump between opposite borders shrinks
    out = edgetaper(img, k)
    np.testing.assert_allclose(out[9:-9, 9:-9], img[9:-9, 9:-9], atol=1e-6)
    jump = lambda z: np.abs(z[0] - z[-1]).mean()  # noqa: E731
    assert jump(out) < 0.5 * jump(img)


@pytest.mark.parametrize('ksize', [(5, 5), (4, 4), (3, 6)])
def test_valid_blur_padding_matches_psf2otf_centre(ksize):
    rng = np.random.default_rng(1)
    x = rng.random((16, 18))
    k = rng.random(ksize)
    k /= k.sum()
    y = pad_for_kernel(blur(x, k, 'valid'), k.shape)
    assert y.shape == x.shape
    circ = circular_conv2d(torch.from_numpy(x)[None, None],
                           torch.from_numpy(k)[None])[0, 0].numpy()
    kh, kw = ksize
    inner = (slice(kh, -kh), slice(kw, -kw))
    np.testing.assert_allclose(y[inner], circ[inner], atol=1e-12)


def test_pad_kernel_keeps_otf_and_quantize():
    k = np.random.default_rng(2).random((4, 6))
    p = pad_kernel(k, 9)
    assert p.shape == (9, 9)
    torch.testing.assert_close(psf2otf(torch.from_numpy(p), (16, 16)),
                               psf2otf(torch.from_numpy(k), (16, 16)))
    with pytest.raises(ValueError, match='larger than the padded size'):
        pad_kernel(k, 5)
    np.testing.assert_allclose(
        quantize_uint8(np.array([-0.1, 0.5, 0.99999, 1.2])),
        [0, 127 / 255, 254 / 255, 1.0])


def test_motion_kernels_and_kernel_sources(tmp_path):
    rng = np.random.default_rng(3)
    for size in (13, 19, 27):
        k = motion_blur_kernel(size, rng)
        assert k.shape == (size, size) and (k >= 0).all()
        assert k.sum() == pytest.approx(1.0)
        rows, cols = np.mgrid[:size, :size]
        centroid = ((k * rows).sum(), (k * cols).sum())
        assert np.allclose(centroid, (size - 1) / 2, atol=1.0)
        assert (k > 0).sum() > 5  # a path, not a dot
    a = load_kernels(dict(type='motion', num=3, size=(11, 15)), seed=7)
    b = load_kernels(dict(type='motion', num=3, size=(11, 15)), seed=7)
    assert [k.shape for k in a] == [(11, 11), (15, 15), (11, 11)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    np.save(tmp_path / 'a.npy', np.ones((3, 3)))
    np.savetxt(tmp_path / 'b.dlm', 2 * np.eye(5))
    ks = load_kernels(str(tmp_path))
    np.testing.assert_allclose(ks[0], np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(ks[1], np.eye(5) / 5)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_kernels(str(tmp_path / 'nope'))
    with pytest.raises(ValueError, match='no positive mass'):
        np.save(tmp_path / 'z.npy', np.zeros((3, 3)))
        load_kernels(str(tmp_path / 'z.npy'))


def _npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@pytest.mark.parametrize('name,content', [
    ('garbage.npy', b'not a numpy file'),
    ('empty.npy', b''),
    ('truncated.npy', _npy_bytes(np.ones((3, 3)))[:-10]),
    ('text.npy', _npy_bytes(np.array([['a', 'b'], ['c', 'd']]))),
    ('words.txt', b'a b\nc d\n'),
    ('garbage.mat', b'not a mat file' * 20),
    ('empty.mat', b''),
])
def test_undecodable_kernel_file_is_an_error_naming_it(tmp_path, name,
                                                       content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_kernels(str(path))


def test_one_row_text_kernel(tmp_path):
    path = tmp_path / 'row.txt'
    np.savetxt(path, np.ones((1, 5)))
    ks = load_kernels(str(path))
    assert len(ks) == 1 and ks[0].shape == (1, 5)
    np.testing.assert_allclose(ks[0], np.full((1, 5), 0.2))


def test_load_levin_mat_errors_name_the_file(tmp_path):
    from scipy.io import savemat
    bad = tmp_path / 'bad.mat'
    bad.write_bytes(b'not a mat file' * 20)
    with pytest.raises(ValueError, match=re.escape(str(bad))):
        LoadLevinMat().transform(dict(mat_path=str(bad)))
    no_y = tmp_path / 'no_y.mat'
    savemat(no_y, dict(x=np.ones((5, 5)), f=np.ones((3, 3))))
    assert LoadLevinMat().transform(dict(mat_path=str(no_y)))['gt'].shape \
        == (5, 5)
    with pytest.raises(KeyError, match=re.escape(str(no_y)) + ".*'y'"):
        LoadLevinMat(use_stored_blur=True).transform(
            dict(mat_path=str(no_y)))


def test_levin_mat_kernels_and_dataset(shared_data):
    root = osp.join(shared_data, 'deblur', 'levin09')
    ks = load_kernels(osp.join(root, 'im05_flit01.mat'))
    assert len(ks) == 1 and ks[0].shape == (19, 19)
    ds = LevinDataset(root, noise_sigma=0.0, pad=False)
    assert len(ds) == 32
    item = ds[0]
    from scipy.io import loadmat
    mat = loadmat(osp.join(root, 'im05_flit01.mat'))
    want = fftconvolve(mat['x'], mat['f'] / mat['f'].sum(), 'same')
    np.testing.assert_allclose(item['inputs'][0].numpy(), want, atol=1e-6)
    # the re-synthesised blur is close to the stored (noisy) one, and
    # closer than with the flipped kernel: f is a convolution kernel
    inner = (slice(20, -20), slice(20, -20))
    flipped = fftconvolve(mat['x'], mat['f'][::-1, ::-1] / mat['f'].sum(),
                          'same')
    err = np.abs(want - mat['y'])[inner].mean()
    assert err < 0.011
    assert err < np.abs(flipped - mat['y'])[inner].mean()
    padded = LevinDataset(root, noise_sigma=0.03, seed=1)[0]
    assert padded['inputs'].shape == (1, 273, 273)
    assert padded['data_samples'].crop_pad == (9, 9, 9, 9)
    assert padded['data_samples'].kernel_size == (19, 19)
    again = LevinDataset(root, noise_sigma=0.03, seed=1)[0]
    assert torch.equal(padded['inputs'], again['inputs'])
    with pytest.raises(FileNotFoundError, match='levin'):
        LevinDataset(osp.join(shared_data, 'nope', 'levin09'))


def test_synthetic_dataset_noise_level_and_reproducibility(shared_data):
    img_dir = osp.join(shared_data, 'lowlight', 'LOL', 'eval15', 'high')
    ds = SyntheticDeblurDataset(
        img_dir, kernels=dict(type='motion', num=4, size=9), crop_size=96,
        sigma_range=(0.04, 0.04), quantize=False, length=3, fixed=True,
        kernel_pad=13)
    item = ds[1]
    s = item['data_samples']
    assert item['inputs'].shape == s.gt_img.shape == (1, 96, 96)
    assert s.kernel.shape == (13, 13) and s.noise_sigma == pytest.approx(0.04)
    assert torch.equal(ds[1]['inputs'], item['inputs'])  # fixed draws
    k = s.kernel.numpy().astype(np.float64)
    clean = pad_for_kernel(blur(s.gt_img[0].numpy().astype(np.float64), k,
                                'valid'), k.shape)
    resid = item['inputs'][0].numpy() - clean
    # interior: alpha == 1, the residual is the Gaussian noise
    assert resid[20:-20, 20:-20].std() == pytest.approx(0.04, rel=0.1)
    train = SyntheticDeblurDataset(img_dir, crop_size=64, length=2)
    assert not torch.equal(train[0]['inputs'], train[0]['inputs'])
    assert train[0]['data_samples'].kernel.shape == (37, 37)
    with pytest.raises(ValueError, match='smaller than crop_size'):
        SyntheticDeblurDataset(img_dir, crop_size=1000)[0]


def _write_gray(path, img):
    import cv2
    cv2.imwrite(str(path), np.round(img * 255).astype(np.uint8))


def test_blurred_image_dataset_follows_the_levin_protocol(tmp_path):
    """Image i (sorted) is blurred with kernel i mod K exactly as Levin's
    pairs are re-synthesised ('same' blur + seeded noise, edge padding +
    edgetaper); a central crop; evenly spread image subsets; clear errors."""
    rng = np.random.default_rng(0)
    imgs = {}
    for i in range(5):
        img = np.round(rng.random((40, 50)) * 255) / 255
        _write_gray(tmp_path / f'im{i}.png', img)
        imgs[i] = img
    k0 = np.zeros((3, 3))
    k0[1, :] = 1  # horizontal box
    k1 = np.zeros((5, 5))
    k1[:, 2] = 1  # vertical box
    np.save(tmp_path / 'k0.npy', k0)
    np.save(tmp_path / 'k1.npy', k1)
    kernels = [str(tmp_path / 'k0.npy'), str(tmp_path / 'k1.npy')]
    img_dir = tmp_path
    ds = BlurredImageDataset(str(img_dir), kernels, noise_sigma=0.0,
                             pad=False)
    assert len(ds) == 5
    for i in (0, 3):  # kernel i mod 2
        k = (k0, k1)[i % 2] / (k0, k1)[i % 2].sum()
        item = ds[i]
        want = fftconvolve(imgs[i], k, 'same')
        np.testing.assert_allclose(item['inputs'][0].numpy(), want,
                                   atol=1e-6)
        s = item['data_samples']
        assert s.kernel_size == k.shape and s.stem == f'im{i}_k{i % 2}'
        np.testing.assert_allclose(s.gt_img[0].numpy(), imgs[i], atol=1e-6)
    # noise: seeded by (seed, index), of the requested level
    noisy = BlurredImageDataset(str(img_dir), kernels, noise_sigma=0.05,
                                seed=3, pad=False)
    resid = noisy[1]['inputs'][0].numpy() - ds[1]['inputs'][0].numpy()
    assert resid.std() == pytest.approx(0.05, rel=0.15)
    assert torch.equal(noisy[1]['inputs'], BlurredImageDataset(
        str(img_dir), kernels, noise_sigma=0.05, seed=3, pad=False)[1][
            'inputs'])
    # padding as Levin: ⌊k/2⌋ on every side, cropped off by crop_pad
    padded = BlurredImageDataset(str(img_dir), kernels, noise_sigma=0.0)[1]
    assert padded['inputs'].shape == (1, 40 + 4, 50 + 4)
    assert padded['data_samples'].crop_pad == (2, 2, 2, 2)
    # a central crop, an evenly spread subset
    crop = BlurredImageDataset(str(img_dir), kernels, noise_sigma=0.0,
                               pad=False, crop_size=20)[2]
    np.testing.assert_allclose(crop['data_samples'].gt_img[0].numpy(),
                               imgs[2][10:30, 15:35], atol=1e-6)
    sub = BlurredImageDataset(str(img_dir), kernels, num_images=3)
    assert [osp.basename(d['img_path']['gt']) for d in sub.data_list] == [
        'im0.png', 'im2.png', 'im4.png']
    with pytest.raises(ValueError, match=r'num_images must lie in \[1, 5\]'):
        BlurredImageDataset(str(img_dir), kernels, num_images=6)
    with pytest.raises(ValueError, match='smaller than crop_size 64'):
        BlurredImageDataset(str(img_dir), kernels, crop_size=64)[0]
    with pytest.raises(FileNotFoundError, match='does not exist'):
        BlurredImageDataset(str(tmp_path / 'nope'), kernels)
