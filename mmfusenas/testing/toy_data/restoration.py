"""Toy haze and underwater pairs following the physical Hadamard models.

Both degradations are element-wise (Hadamard) products with a transmission
map plus an additive veil, ``I = J ⊙ t + A ⊙ (1 - t)``, ``t = exp(-beta
d)``: :func:`generate_toy_haze` (Koschmieder, the RESIDE model, grey
airlight) and :func:`generate_toy_underwater` (the simplified
Jaffe-McGlamery / Akkaynak-Treibitz model, per-channel attenuation and a
blue-green backscatter). Clear images and depth come from real RGB-D pairs
(``source='rgbd'``, :func:`load_rgbd`) or from the procedural toy scenes
with a synthetic depth ramp (``source='toy'``, :func:`toy_depth`);
``source='auto'`` takes the real pairs when their folder exists. The output
is deterministic. Layouts (read by :class:`HazeDataset` /
:class:`UnderwaterDataset`): ``out_dir/{train,val}/{hazy,clear}/`` and
``out_dir/{train,val}/{raw,reference}/``.
"""
import glob
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

from mmfusenas.datasets.derain_dehaze_dataset import add_haze
from .ivif import render_toy_scene

#: default real RGB-D folder (relative to the repository root)
DEFAULT_RGBD_ROOT = '../shared/data/gisr/RGBDD_subset40'
SOURCES = ('auto', 'rgbd', 'toy')


def draw_haze(clear: np.ndarray,
              depth: np.ndarray,
              rng: np.random.Generator,
              beta_range: Tuple[float, float] = (1.0, 2.5),
              airlight_range: Tuple[float, float] = (0.7, 1.0)
              ) -> Tuple[np.ndarray, Dict[str, float]]:
    """Hazy image of ``clear`` (``(H, W, 3)`` uint8) at normalised depth
    ``depth`` (``(H, W)`` in ``[0, 1]``) with ``beta`` / ``airlight`` drawn
    from the ranges; the atmospheric model itself is
    :func:`~mmfusenas.datasets.add_haze`. Returns the uint8 image and the
    drawn ``beta`` / ``airlight``."""
    beta = rng.uniform(*beta_range)
    airlight = rng.uniform(*airlight_range)
    hazy, _ = add_haze(clear.astype(np.float64) / 255.0, depth, beta,
                       airlight)
    return _to_uint8(hazy), dict(beta=beta, airlight=airlight)


def add_underwater(clear: np.ndarray,
                   distance: np.ndarray,
                   rng: np.random.Generator,
                   beta_ranges=((0.35, 0.6), (0.08, 0.18), (0.04, 0.12)),
                   water_ranges=((0.0, 0.15), (0.35, 0.6), (0.45, 0.75)),
                   noise_std: float = 0.005
                   ) -> Tuple[np.ndarray, Dict[str, List[float]]]:
    """Underwater image of ``clear`` at ``distance`` (metres, ``(H, W)``).

    Per colour channel c: attenuation ``beta_c ~ U(beta_ranges[c])`` (1/m)
    and backscatter ``B_c ~ U(water_ranges[c])``; small Gaussian sensor
    noise. Returns the uint8 image and the drawn ``beta`` / ``water``.
    """
    beta = np.array([rng.uniform(*r) for r in beta_ranges])
    water = np.array([rng.uniform(*r) for r in water_ranges])
    j = clear.astype(np.float64) / 255.0
    t = np.exp(-distance[..., None] * beta[None, None])
    raw = j * t + water[None, None] * (1.0 - t)
    raw = raw + noise_std * rng.standard_normal(raw.shape)
    return _to_uint8(raw), dict(beta=beta.tolist(), water=water.tolist())


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _square_resize(img: Image.Image, size: int, resample) -> Image.Image:
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return img.crop((left, top, left + s, top + s)).resize((size, size),
                                                           resample)


def _rgbd_pairs(root: str) -> List[Tuple[str, str]]:
    rgbs = sorted(glob.glob(osp.join(root, 'RGB', '*_RGB.jpg')))
    pairs = []
    for rgb in rgbs:
        stem = osp.basename(rgb)[:-len('_RGB.jpg')]
        depth = osp.join(root, 'Depth', f'{stem}_HR_gt.png')
        if osp.isfile(depth):
            pairs.append((rgb, depth))
    return pairs


def load_rgbd(rgb_path: str, depth_path: str,
              size: int) -> Tuple[np.ndarray, np.ndarray]:
    """A real RGB-D pair resized to ``size`` (centre square crop); depth
    normalised to ``[0, 1]`` (0 nearest, 1 farthest; holes = farthest)."""
    rgb = _square_resize(
        Image.open(rgb_path).convert('RGB'), size, Image.BICUBIC)
    raw = np.asarray(Image.open(depth_path)).astype(np.float64)
    valid = raw > 0
    if not valid.any():
        raise ValueError(f'depth map {depth_path} has no valid pixel')
    raw[~valid] = raw[valid].max()
    depth = _square_resize(Image.fromarray(raw.astype(np.float32), 'F'),
                           size, Image.BILINEAR)
    d = np.asarray(depth, dtype=np.float64)
    d = (d - d.min()) / max(d.max() - d.min(), 1e-12)
    return np.asarray(rgb), d


def toy_depth(size: int, rng: np.random.Generator) -> np.ndarray:
    """Synthetic normalised depth: far at the top, near at the bottom, plus a
    smooth random bump (an object)."""
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    ramp = 1.0 - yy
    cy, cx = rng.uniform(0.3, 0.8, size=2)
    bump = np.exp(-((yy - cy)**2 + (xx - cx)**2) / 0.02)
    d = np.clip(ramp - 0.5 * bump, 0.0, None)
    return (d - d.min()) / max(d.max() - d.min(), 1e-12)


def _clear_and_depth(source: str, index: int, seed: int, size: int,
                     pairs: List[Tuple[str, str]],
                     rng: np.random.Generator):
    if source == 'rgbd':
        rgb, depth = pairs[index % len(pairs)]
        return load_rgbd(rgb, depth, size)
    # the toy renderer draws at >= 64 px; smaller images are downscaled
    clear = render_toy_scene(
        seed, index, size=max(size, 64), night_fraction=0.0).vis
    if size < 64:
        clear = np.asarray(
            Image.fromarray(clear).resize((size, size), Image.BICUBIC))
    return clear, toy_depth(size, rng)


def _resolve_source(source: str, rgbd_root: str) -> Tuple[str, list]:
    if source not in SOURCES:
        raise ValueError(f'source must be one of {SOURCES}, got {source!r}')
    pairs = _rgbd_pairs(rgbd_root) if osp.isdir(rgbd_root) else []
    if source == 'rgbd' and not pairs:
        raise FileNotFoundError(
            f'source=\'rgbd\' needs RGB-D pairs under {rgbd_root!r} '
            '(RGB/<stem>_RGB.jpg + Depth/<stem>_HR_gt.png, the RGB-D-D '
            "layout); use source='toy' for synthetic scenes")
    if source == 'auto':
        source = 'rgbd' if pairs else 'toy'
    return source, pairs


def _generate(kind: str, out_dir: str, num_train: int, num_val: int,
              seed: int, size: int, source: str, rgbd_root: Optional[str],
              **kwargs) -> Dict[str, object]:
    if num_train < 1 or num_val < 0:
        raise ValueError(f'need num_train >= 1 and num_val >= 0, got '
                         f'{num_train}, {num_val}')
    if not 16 <= size <= 2048:
        raise ValueError(f'size must be in [16, 2048], got {size}')
    source, pairs = _resolve_source(source, rgbd_root or DEFAULT_RGBD_ROOT)
    inp, ref = ('hazy', 'clear') if kind == 'haze' else ('raw', 'reference')
    counts = dict(train=num_train, val=num_val)
    index = 0
    params = []
    for split in ('train', 'val'):
        for sub in (inp, ref):
            os.makedirs(osp.join(out_dir, split, sub), exist_ok=True)
        for _ in range(counts[split]):
            rng = np.random.default_rng([seed, index])
            clear, depth = _clear_and_depth(source, index, seed, size, pairs,
                                            rng)
            if kind == 'haze':
                degraded, p = draw_haze(clear, depth, rng, **kwargs)
            else:
                lo, hi = kwargs.pop('distance_range', (1.0, 8.0))
                degraded, p = add_underwater(clear, lo + (hi - lo) * depth,
                                             rng, **kwargs)
                kwargs['distance_range'] = (lo, hi)
            name = f'{index:05d}.png'
            Image.fromarray(clear).save(osp.join(out_dir, split, ref, name))
            Image.fromarray(degraded).save(
                osp.join(out_dir, split, inp, name))
            params.append(p)
            index += 1
    return dict(
        num_train=num_train,
        num_val=num_val,
        size=size,
        seed=seed,
        source=source,
        params=params)


def generate_toy_haze(out_dir: str,
                      num_train: int = 16,
                      num_val: int = 4,
                      seed: int = 0,
                      size: int = 64,
                      source: str = 'auto',
                      rgbd_root: Optional[str] = None,
                      **haze_kwargs) -> Dict[str, object]:
    """Write toy hazy / clear pairs (see the module docstring).

    Args:
        out_dir (str): output folder.
        num_train (int): training pairs, >= 1. Defaults to 16.
        num_val (int): validation pairs, >= 0. Defaults to 4.
        seed (int): Defaults to 0.
        size (int): square image side. Defaults to 64.
        source (str): ``'auto'``, ``'rgbd'`` or ``'toy'``.
        rgbd_root (str, optional): RGB-D folder (default
            :data:`DEFAULT_RGBD_ROOT`).
        **haze_kwargs: ``beta_range``, ``airlight_range`` of
            :func:`draw_haze`.

    Returns:
        dict: counts, seed, the source used and the drawn parameters.
    """
    return _generate('haze', out_dir, num_train, num_val, seed, size, source,
                     rgbd_root, **haze_kwargs)


def generate_toy_underwater(out_dir: str,
                            num_train: int = 16,
                            num_val: int = 4,
                            seed: int = 0,
                            size: int = 64,
                            source: str = 'auto',
                            rgbd_root: Optional[str] = None,
                            **water_kwargs) -> Dict[str, object]:
    """Write toy raw / reference underwater pairs (see the module doc).

    Args: as :func:`generate_toy_haze`; ``**water_kwargs`` are
    ``distance_range`` (metres, default (1, 8)) and the options of
    :func:`add_underwater`.
    """
    return _generate('underwater', out_dir, num_train, num_val, seed, size,
                     source, rgbd_root, **water_kwargs)
