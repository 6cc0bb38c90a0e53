"""Synthetic misalignment of one modality by a known random affine +
elastic warp (TIM's misaligned pairs), with the field that registers it
back (pixels, ``(x, y)``, backward warping)."""
import zlib
from typing import Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmfusenas.registry import TRANSFORMS


def _pixel_grid(height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs, ys


def remap_array(arr: np.ndarray, flow: np.ndarray,
                interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """``out(p) = arr(p + flow(p))`` for an ``(H, W[, C])`` array and an
    ``(H, W, 2)`` pixel field (x, y); the border is replicated."""
    h, w = flow.shape[:2]
    xs, ys = _pixel_grid(h, w)
    out = cv2.remap(arr, xs + flow[..., 0], ys + flow[..., 1],
                    interpolation, borderMode=cv2.BORDER_REPLICATE)
    if arr.ndim == 3 and out.ndim == 2:
        out = out[..., None]
    return out


def invert_flow(flow: np.ndarray, iterations: int = 30) -> np.ndarray:
    """The field ``g`` with ``warp(warp(x, flow), g) ≈ x``, by fixed-point
    iteration of ``g(p) = -flow(p + g(p))``."""
    flow = flow.astype(np.float32)
    inv = -flow
    for _ in range(iterations):
        inv = -remap_array(flow, inv)
    return inv


def random_affine_elastic_field(height: int,
                                width: int,
                                rng: np.random.Generator,
                                max_rotation: float = 3.0,
                                max_scale: float = 0.03,
                                max_shear: float = 0.02,
                                max_translation: float = 0.02,
                                elastic_magnitude: float = 0.015,
                                elastic_sigma: float = 0.1,
                                reference_size: Optional[Tuple[int,
                                                               int]] = None
                                ) -> np.ndarray:
    """A random ``(H, W, 2)`` displacement field: affine + elastic.

    Affine about the centre: rotation ``U(±max_rotation)`` degrees, scale
    ``1 + U(±max_scale)``, shear ``U(±max_shear)``, translation
    ``U(±max_translation)`` of ``(W, H)``. Elastic (Simard et al. 2003):
    Gaussian-smoothed noise (σ ``elastic_sigma · min(H, W)``) with a peak of
    ``U(0.5, 1) · elastic_magnitude · min(H, W)`` pixels. With
    ``reference_size = (H_ref, W_ref)`` the sizes are fractions of the
    reference and the affine centre is shifted at random, as for a random
    window of a reference-size image.
    """
    xs, ys = _pixel_grid(height, width)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    ref_h, ref_w = height, width
    if reference_size is not None:
        ref_h, ref_w = (int(v) for v in reference_size)
        if ref_h < 1 or ref_w < 1:
            raise ValueError('random_affine_elastic_field: reference_size '
                             f'must be positive, got {reference_size}')
        cx += rng.uniform(-1, 1) * max(ref_w - width, 0) / 2.0
        cy += rng.uniform(-1, 1) * max(ref_h - height, 0) / 2.0
    theta = np.deg2rad(rng.uniform(-max_rotation, max_rotation))
    scale = 1.0 + rng.uniform(-max_scale, max_scale)
    shear = rng.uniform(-max_shear, max_shear)
    rot = np.array([[np.cos(theta), -np.sin(theta)],
                    [np.sin(theta), np.cos(theta)]])
    mat = rot @ np.array([[scale, shear], [0.0, scale]])
    tx = rng.uniform(-max_translation, max_translation) * ref_w
    ty = rng.uniform(-max_translation, max_translation) * ref_h
    dx, dy = xs - cx, ys - cy
    u = mat[0, 0] * dx + mat[0, 1] * dy + cx + tx - xs
    v = mat[1, 0] * dx + mat[1, 1] * dy + cy + ty - ys
    field = np.stack([u, v], -1).astype(np.float32)
    if elastic_magnitude > 0:
        side = min(ref_h, ref_w)
        # smooth noise drawn at 1/4 resolution and resized (the same field
        # up to interpolation, 16x cheaper)
        sh, sw = max(height // 4, 2), max(width // 4, 2)
        sigma = max(elastic_sigma * side / 4.0, 0.5)
        noise = rng.standard_normal((sh, sw, 2)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), sigma,
                                 borderType=cv2.BORDER_REFLECT)
        noise = cv2.resize(noise, (width, height),
                           interpolation=cv2.INTER_CUBIC)
        peak = float(np.abs(noise).max())
        if peak > 0:
            amplitude = rng.uniform(0.5, 1.0) * elastic_magnitude * side
            field += noise * (amplitude / peak)
    return field


@TRANSFORMS.register_module()
class RandomElasticAffineWarp(BaseTransform):
    """Warp one modality by a random affine + elastic field and store the
    field that registers it back.

    ``key`` becomes ``warped(p) = aligned(p + u(p))``
    (:func:`random_affine_elastic_field`); place it after the geometric
    transforms. Adds ``gt_flow`` (``float32 (H, W, 2)``, ``aligned(p) ≈
    warped(p + g(p))``) and ``warped_modality``; with ``seed`` the draw is
    a function of ``(seed, crc32(stem))``.

    Args:
        key (str): the modality to warp. Defaults to 'ir'.
        prob (float): probability of warping (else ``gt_flow`` is zero).
            Defaults to 1.0.
        max_rotation, max_scale, max_shear, max_translation,
        elastic_magnitude, elastic_sigma, reference_size: see
            :func:`random_affine_elastic_field`.
        seed (int, optional): fixed per-sample warps. Defaults to None.
    """

    def __init__(self,
                 key: str = 'ir',
                 prob: float = 1.0,
                 max_rotation: float = 3.0,
                 max_scale: float = 0.03,
                 max_shear: float = 0.02,
                 max_translation: float = 0.02,
                 elastic_magnitude: float = 0.015,
                 elastic_sigma: float = 0.1,
                 seed: Optional[int] = None,
                 reference_size: Optional[Tuple[int, int]] = None) -> None:
        values = dict(
            max_rotation=max_rotation,
            max_scale=max_scale,
            max_shear=max_shear,
            max_translation=max_translation,
            elastic_magnitude=elastic_magnitude)
        bad = {k: v for k, v in values.items() if not v >= 0}
        if bad or not 0 <= prob <= 1 or not elastic_sigma > 0:
            raise ValueError(
                'RandomElasticAffineWarp: magnitudes must be >= 0, prob in '
                f'[0, 1] and elastic_sigma > 0; got {bad or values}, '
                f'prob={prob}, elastic_sigma={elastic_sigma}')
        self.key = key
        self.prob = float(prob)
        if reference_size is not None and (
                len(reference_size) != 2 or min(reference_size) < 1):
            raise ValueError('RandomElasticAffineWarp: reference_size must be '
                             f'(H, W) > 0, got {reference_size}')
        self.field_cfg = dict(
            values,
            elastic_sigma=elastic_sigma,
            reference_size=None
            if reference_size is None else tuple(reference_size))
        self.seed = seed

    def _rng(self, results: dict) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng(np.random.randint(0, 2**31 - 1))
        stem = results.get('stem')
        tag = zlib.crc32(str(stem).encode()) if stem is not None else int(
            results.get('sample_idx', 0))
        return np.random.default_rng([int(self.seed), tag])

    def transform(self, results: dict) -> dict:
        """Warp ``results[key]`` and add ``gt_flow``."""
        if self.key not in results.get('modalities', ()):
            raise KeyError(
                f'RandomElasticAffineWarp: modality {self.key!r} is not '
                f"loaded (modalities {results.get('modalities')}); set key "
                'to one of them')
        if 'gt_flow' in results:
            raise ValueError('RandomElasticAffineWarp: the sample is already '
                             'misaligned (it has gt_flow); use one warp')
        img = results[self.key]
        h, w = img.shape[:2]
        rng = self._rng(results)
        if rng.uniform() >= self.prob:
            results['gt_flow'] = np.zeros((h, w, 2), np.float32)
        else:
            field = random_affine_elastic_field(h, w, rng, **self.field_cfg)
            results[self.key] = np.ascontiguousarray(
                remap_array(img, field).astype(img.dtype))
            results['gt_flow'] = invert_flow(field)
        results['warped_modality'] = self.key
        return results

    def __repr__(self) -> str:
        cfg = ', '.join(f'{k}={v}' for k, v in self.field_cfg.items())
        return (f'{self.__class__.__name__}(key={self.key!r}, '
                f'prob={self.prob}, {cfg}, seed={self.seed})')
