"""Procedural RGB-D pairs for guided depth SR (toy data, any machine).

Each scene is a tilted background plane with 3-5 nearer objects
(rectangles and ellipses, each a tilted plane of its own), 16-bit depth in
millimetres (the RGB-D-D convention). The RGB image colours every object
differently, so **depth edges appear in the RGB**, and adds what guided SR
must learn to ignore: stripes across the whole image and printed colour
patches, **RGB texture with no depth edge**. Files follow the RGB-D-D
naming (``RGB/<id>_RGB.png``, ``Depth/<id>_HR_gt.png``) in
``{train,val,test,search_val}/`` split folders, so :class:`GISRDataset`
reads them like real data. ``search_val`` is what a one-shot search scores
its candidates on (held out from training, validation and test); it is
written after the other splits, so its size never changes their files.
"""
import os
import os.path as osp
from typing import Dict

import cv2
import numpy as np


def _scene(rng: np.random.Generator, size: int):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    depth = (rng.uniform(2500, 4000) + rng.uniform(-600, 600) * xx +
             rng.uniform(-600, 600) * yy)
    label = np.zeros((size, size), np.int32)
    for k in range(1, int(rng.integers(3, 6)) + 1):
        cy, cx = rng.uniform(0.15, 0.85, 2)
        ry, rx = rng.uniform(0.08, 0.3, 2)
        if rng.random() < 0.5:
            mask = (np.abs(yy - cy) < ry) & (np.abs(xx - cx) < rx)
        else:
            mask = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 < 1
        plane = (rng.uniform(700, 2400) + rng.uniform(-300, 300) *
                 (xx - cx) + rng.uniform(-300, 300) * (yy - cy))
        depth = np.where(mask, plane, depth)
        label = np.where(mask, k, label)
    colours = rng.uniform(30, 225, (label.max() + 1, 3)).astype(np.float32)
    rgb = colours[label]
    # texture without depth: stripes + printed patches
    theta = rng.uniform(0, np.pi)
    freq = rng.uniform(6, 14)
    stripes = np.sin(2 * np.pi * freq *
                     (np.cos(theta) * xx + np.sin(theta) * yy))
    rgb = rgb + rng.uniform(10, 25) * stripes[..., None]
    for _ in range(int(rng.integers(2, 5))):
        cy, cx = rng.uniform(0.1, 0.9, 2)
        r = rng.uniform(0.03, 0.08)
        patch = (np.abs(yy - cy) < r) & (np.abs(xx - cx) < r)
        rgb = np.where(patch[..., None], rng.uniform(0, 255, 3), rgb)
    # shading from depth keeps the RGB plausible (near = brighter)
    rgb = rgb * (1.15 - 0.1 * (depth[..., None] - 700) / 3300)
    rgb = rgb + rng.normal(0, 2, rgb.shape)
    return (np.clip(rgb, 0, 255).astype(np.uint8),
            np.clip(np.round(depth), 1, 65535).astype(np.uint16))


def generate_toy_rgbd(out_dir: str,
                      num_train: int = 24,
                      num_val: int = 4,
                      num_test: int = 4,
                      seed: int = 0,
                      size: int = 64,
                      num_search_val: int = 0) -> Dict[str, int]:
    """Write the toy RGB-D splits under ``out_dir``.

    Args:
        out_dir (str): output folder (``train/``, ``val/``, ``test/`` and,
            with ``num_search_val > 0``, ``search_val/``).
        num_train / num_val / num_test (int): pairs per split.
        seed (int): seed; the same seed writes the same files.
        size (int): image side, a multiple of 32 (the mod-crop). Defaults
            to 64.
        num_search_val (int): pairs of the ``search_val`` split (scores of
            one-shot search candidates). Drawn after the other splits from
            the same stream, so train / val / test are the same files
            whatever its size. Defaults to 0 (no such split).

    Returns:
        dict: ``{split: number of pairs}``.
    """
    if size % 32 or size < 32:
        raise ValueError(f'size must be a positive multiple of 32, got {size}')
    rng = np.random.default_rng(seed)
    if min(num_train, num_val, num_test, num_search_val) < 0:
        raise ValueError('split sizes must be >= 0, got '
                         f'{(num_train, num_val, num_test, num_search_val)}')
    counts = dict(train=num_train, val=num_val, test=num_test)
    if num_search_val:
        counts['search_val'] = num_search_val
    for split, n in counts.items():
        for sub in ('RGB', 'Depth'):
            os.makedirs(osp.join(out_dir, split, sub), exist_ok=True)
        for i in range(n):
            rgb, depth = _scene(rng, size)
            sid = f'{split}{i:04d}'
            ok1 = cv2.imwrite(
                osp.join(out_dir, split, 'RGB', f'{sid}_RGB.png'),
                cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            ok2 = cv2.imwrite(
                osp.join(out_dir, split, 'Depth', f'{sid}_HR_gt.png'), depth)
            if not (ok1 and ok2):
                raise OSError(f'cannot write toy pair {sid} under {out_dir}')
    return counts
