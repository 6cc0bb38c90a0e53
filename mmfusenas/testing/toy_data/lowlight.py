"""Darkened toy scenes in the LOL layout, for fast low-light tests.

:func:`generate_toy_lowlight` pairs each normal-light image (the daylight
VIS image of a toy scene, :func:`~.ivif.render_toy_scene`)
with a low-light partner made by :func:`darken` (seeded by ``(seed, i)``)::

    x = high / 255;  gain ~ U(gain_range);  mean = gain * x ** gamma
    low = clip(mean + N(0, shot_noise^2 * mean + read_noise^2), 0, 1)
    low = floor(255 * low + 0.5)            # 8-bit

Output (LOL layout, detected by ``LowLightDataset``):
``out_dir/{train,val}/{low,high}/NNNNN.png`` and the search halves
``out_dir/train/splits/search_{weights,arch}.txt``
(:mod:`mmfusenas.datasets.search_splits`).
"""
import os
import os.path as osp
from typing import Dict, Tuple

import numpy as np
from PIL import Image

from mmfusenas.datasets.search_splits import SEARCH_SPLITS, search_halves
from .ivif import render_toy_scene

#: the splits written by :func:`generate_toy_lowlight`
SPLITS = ('train', 'val')


def darken(high: np.ndarray,
           rng: np.random.Generator,
           gain_range: Tuple[float, float] = (0.05, 0.2),
           gamma: float = 1.2,
           shot_noise: float = 0.02,
           read_noise: float = 0.005) -> np.ndarray:
    """Apply the darkening + noise model of the module docstring.

    Args:
        high (np.ndarray): ``(H, W, 3)`` uint8 normal-light image.
        rng (np.random.Generator): source of the gain and the noise.
        gain_range (tuple[float, float]): ``0 < low <= high <= 1``.
            Defaults to (0.05, 0.2).
        gamma (float): > 0. Defaults to 1.2.
        shot_noise (float): signal-dependent noise std factor, >= 0.
            Defaults to 0.02.
        read_noise (float): signal-independent noise std, >= 0. Defaults
            to 0.005.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 low-light image.
    """
    lo, hi = gain_range
    if not 0 < lo <= hi <= 1:
        raise ValueError(f'gain_range must satisfy 0 < low <= high <= 1, got '
                         f'{gain_range}')
    if gamma <= 0 or shot_noise < 0 or read_noise < 0:
        raise ValueError('gamma must be > 0 and the noise stds >= 0')
    x = high.astype(np.float64) / 255.0
    mean = rng.uniform(lo, hi) * x**gamma
    std = np.sqrt(shot_noise**2 * mean + read_noise**2)
    low = np.clip(mean + rng.standard_normal(x.shape) * std, 0.0, 1.0)
    return np.floor(255.0 * low + 0.5).astype(np.uint8)


def generate_toy_lowlight(out_dir: str,
                          num_train: int = 16,
                          num_val: int = 4,
                          seed: int = 0,
                          size: int = 64,
                          **darken_kwargs) -> Dict[str, int]:
    """Write ``num_train + num_val`` darkened toy pairs (see the module doc).

    Deterministic: the same arguments give bit-identical files. Image ``i``
    (train first, then val) is toy scene ``i`` of ``seed``; its darkening
    generator is ``np.random.default_rng([seed, i])``.

    Args:
        out_dir (str): output folder (created; existing files with the same
            names are overwritten).
        num_train (int): training pairs, >= 1. Defaults to 16.
        num_val (int): validation pairs, >= 0. Defaults to 4.
        seed (int): >= 0. Defaults to 0.
        size (int): image side, 64-2048 (toy renderer). Defaults to 64.
        **darken_kwargs: options of :func:`darken`.

    Returns:
        dict: ``num_train``, ``num_val``, ``size``, ``seed``.
    """
    if num_train < 1 or num_val < 0:
        raise ValueError(f'need num_train >= 1 and num_val >= 0, got '
                         f'{num_train}, {num_val}')
    counts = dict(train=num_train, val=num_val)
    index = 0
    for split in SPLITS:
        for sub in ('low', 'high'):
            os.makedirs(osp.join(out_dir, split, sub), exist_ok=True)
        for _ in range(counts[split]):
            high = render_toy_scene(
                seed, index, size=size, night_fraction=0.0).vis
            low = darken(high, np.random.default_rng([seed, index]),
                         **darken_kwargs)
            name = f'{index:05d}.png'
            Image.fromarray(high).save(osp.join(out_dir, split, 'high', name))
            Image.fromarray(low).save(osp.join(out_dir, split, 'low', name))
            index += 1
    if num_train >= 2:  # the two search halves of train/
        stems = [f'{i:05d}' for i in range(num_train)]
        os.makedirs(osp.join(out_dir, 'train', 'splits'), exist_ok=True)
        for name, half in zip(SEARCH_SPLITS, search_halves(stems)):
            with open(osp.join(out_dir, 'train', 'splits', f'{name}.txt'),
                      'w') as f:
                f.write(''.join(s + '\n' for s in half))
    return dict(num_train=num_train, num_val=num_val, size=size, seed=seed)
