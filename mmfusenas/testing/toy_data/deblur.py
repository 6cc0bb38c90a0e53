"""Toy deblurring data: clean scenes, motion kernels, a Levin-layout test set.

Layout written by :func:`generate_toy_deblur`::

    out_dir/train/0000.png ...          clean grayscale training images
    out_dir/kernels/kernel_01.npy ...   generated motion-blur kernels
    out_dir/levin/imXX_flitKK.mat       x (sharp), y (blurred + 1% noise), f
    out_dir/blurry/imXX_flitKK.png      y as 8-bit PNG (tools/deblur.py demo)
    out_dir/blurry_kernels/imXX_flitKK.npy   its kernel (same stem)
    out_dir/sharp/imXX_flitKK.png       the sharp x (8-bit)

The scenes are the toy fusion renderer's daylight visible images (no sensor
noise), converted to gray, so nothing is downloaded.
"""
import os
import os.path as osp

import cv2
import numpy as np

from mmfusenas.datasets.deblur_synthesis import blur, motion_blur_kernel
from .ivif import render_toy_scene

__all__ = ['generate_toy_deblur', 'generate_toy_restoration']


def _gray(seed: int, index: int, size: int) -> np.ndarray:
    vis = render_toy_scene(seed, index, size, night_fraction=0.0,
                           noise=0.0).vis
    return cv2.cvtColor(vis, cv2.COLOR_RGB2GRAY)


def generate_toy_deblur(out_dir: str,
                        num_train: int = 8,
                        num_test: int = 2,
                        num_kernels: int = 4,
                        size: int = 96,
                        test_size: int = 64,
                        kernel_size: int = 9,
                        noise_sigma: float = 0.01,
                        seed: int = 0) -> None:
    """Write the toy set (see the module docstring).

    Args:
        out_dir (str): output folder (created; existing files are
            overwritten).
        num_train (int): clean training images. Defaults to 8.
        num_test (int): test images (each blurred by every kernel).
            Defaults to 2.
        num_kernels (int): motion kernels. Defaults to 4.
        size (int): side of the training images (>= 64). Defaults to 96.
        test_size (int): side of the test images (>= 64). Defaults to 64.
        kernel_size (int): kernel side. Defaults to 9.
        noise_sigma (float): noise of the stored ``y``. Defaults to 0.01.
        seed (int): seed. Defaults to 0.
    """
    from scipy.io import savemat
    if num_train < 1 or num_test < 1 or num_kernels < 1:
        raise ValueError('num_train, num_test and num_kernels must be >= 1')
    if kernel_size >= min(size, test_size) // 2:
        raise ValueError(f'kernel_size {kernel_size} is too large for '
                         f'{size}/{test_size} images')
    for sub in ('train', 'kernels', 'levin', 'blurry', 'blurry_kernels',
                'sharp'):
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)
    for i in range(num_train):
        cv2.imwrite(osp.join(out_dir, 'train', f'{i:04d}.png'),
                    _gray(seed, i, size))
    rng = np.random.default_rng(seed)
    kernels = [motion_blur_kernel(kernel_size, rng) for _ in range(
        num_kernels)]
    for j, k in enumerate(kernels):
        np.save(osp.join(out_dir, 'kernels', f'kernel_{j + 1:02d}.npy'), k)
    for i in range(num_test):
        x = _gray(seed + 1, i, test_size).astype(np.float64) / 255.0
        for j, k in enumerate(kernels):
            y = blur(x, k, 'same') + noise_sigma * rng.standard_normal(
                x.shape)
            stem = f'im{i + 1:02d}_flit{j + 1:02d}'
            savemat(osp.join(out_dir, 'levin', stem + '.mat'),
                    dict(x=x, y=y, f=k))
            cv2.imwrite(osp.join(out_dir, 'blurry', stem + '.png'),
                        np.round(np.clip(y, 0, 1) * 255).astype(np.uint8))
            np.save(osp.join(out_dir, 'blurry_kernels', stem + '.npy'), k)
            cv2.imwrite(osp.join(out_dir, 'sharp', stem + '.png'),
                        np.round(x * 255).astype(np.uint8))


def generate_toy_restoration(out_dir: str,
                             num_train: int = 8,
                             num_test: int = 2,
                             size: int = 64,
                             seed: int = 0) -> None:
    """Toy deraining and dehazing data (our design).

    Layout::

        out_dir/derain/train/0000.png            clean RGB scenes
        out_dir/derain/test/{rain,norain}/rain-001.png / norain-001.png
                                                 (Rain100L/H layout)
        out_dir/dehaze/train/{RGB,Depth}/XXXX_output_{color,depth}.png
                                                 (Middlebury RGB-D layout)
        out_dir/dehaze/test/{hazy,clear}/0001_A_beta.png / 0001.png
                                                 (RESIDE SOTS layout)

    The toy scenes have no depth map; a ground-plane depth is used (``d``
    rises linearly from the bottom row to 1 at the scene's horizon and stays
    1 above it), written as 8-bit disparity ``255·(1 − d)``.
    """
    from mmfusenas.datasets.derain_dehaze_dataset import (add_haze,
                                                          rain_streaks)
    if num_train < 1 or num_test < 1:
        raise ValueError('num_train and num_test must be >= 1')
    dirs = ['derain/train', 'derain/test/rain', 'derain/test/norain',
            'dehaze/train/RGB', 'dehaze/train/Depth', 'dehaze/test/hazy',
            'dehaze/test/clear']
    for d in dirs:
        os.makedirs(osp.join(out_dir, d), exist_ok=True)
    rng = np.random.default_rng(seed)

    def scene(s, i):
        sc = render_toy_scene(s, i, size, night_fraction=0.0, noise=0.0)
        horizon = int(sc.info.get('horizon', size // 2))
        rows = np.arange(size, dtype=np.float64)[:, None]
        span = max(size - 1 - horizon, 1)
        d = np.clip((size - 1 - rows) / span, 0, 1) * np.ones((1, size))
        return sc.vis, d

    def write(path, rgb):
        cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    for i in range(num_train):
        vis, d = scene(seed, i)
        write(osp.join(out_dir, 'derain/train', f'{i:04d}.png'), vis)
        write(osp.join(out_dir, 'dehaze/train/RGB',
                       f'{i:04d}_output_color.png'), vis)
        cv2.imwrite(osp.join(out_dir, 'dehaze/train/Depth',
                             f'{i:04d}_output_depth.png'),
                    np.round(255 * (1 - d)).astype(np.uint8))
    for i in range(num_test):
        vis, d = scene(seed + 1, i)
        x = vis.astype(np.float64) / 255
        r = rain_streaks((size, size), rng, density=10, length=12,
                         angle=rng.uniform(-20, 20), strength=0.6)
        y = np.clip(x + r[..., None], 0, 1)
        to8 = lambda z: np.round(z * 255).astype(np.uint8)  # noqa: E731
        write(osp.join(out_dir, 'derain/test/rain', f'rain-{i + 1:03d}.png'),
              to8(y))
        write(osp.join(out_dir, 'derain/test/norain',
                       f'norain-{i + 1:03d}.png'), vis)
        a, beta = rng.uniform(0.75, 0.95), rng.uniform(0.8, 1.6)
        hazy, _ = add_haze(x, d, beta, a)
        write(osp.join(out_dir, 'dehaze/test/hazy',
                       f'{i + 1:04d}_{a:.2f}_{beta:.2f}.png'), to8(hazy))
        write(osp.join(out_dir, 'dehaze/test/clear', f'{i + 1:04d}.png'), vis)
