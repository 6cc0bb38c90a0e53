"""Guided image SR error metrics with each benchmark's convention named.

The field reports "RMSE" under different, often unstated, conventions.
:data:`GISR_PRESETS` names them (``nyu``: 6 px crop, metres reported in
cm, the DCNAS / DKN / FDSR protocol; ``middlebury`` and ``lu``: 8-bit
levels; ``rgbdd``: millimetres reported in cm; ``none``: no scaling), and
every number this toolbox prints says which preset it used.
:func:`resolve_gisr_preset` resolves a preset and :func:`gisr_errors`
computes the errors per image over valid pixels (GT > 0) when
``mask_invalid``. The official DCNAS code's ``--gdata`` "RMSE" (an MSE
without square root) is not reproduced.
"""
from typing import Dict, Optional

import numpy as np

from ._utils import ArrayLike, check_same_shape, to_gray2d

#: preset -> (crop_border, unit_scale, data_range of the stored values)
GISR_PRESETS: Dict[str, dict] = dict(
    nyu=dict(crop_border=6, unit_scale=100.0, data_range=10.0),
    middlebury=dict(crop_border=0, unit_scale=1.0, data_range=255.0),
    lu=dict(crop_border=0, unit_scale=1.0, data_range=255.0),
    rgbdd=dict(crop_border=0, unit_scale=0.1, data_range=10000.0),
    none=dict(crop_border=0, unit_scale=1.0, data_range=1.0))


def resolve_gisr_preset(preset: str, **overrides) -> dict:
    """The conventions of ``preset`` with non-None ``overrides`` applied.

    Raises:
        KeyError: unknown preset (the message lists them).
    """
    if preset not in GISR_PRESETS:
        raise KeyError(f'unknown GISR metric preset {preset!r}; valid: '
                       f'{sorted(GISR_PRESETS)}')
    conv = dict(GISR_PRESETS[preset])
    conv.update({k: v for k, v in overrides.items() if v is not None})
    return conv


def denormalize_depth(x: np.ndarray, depth_min: Optional[float],
                      depth_max: Optional[float]) -> np.ndarray:
    r""":math:`d = x(d_{max}-d_{min}) + d_{min}`; identity when both are
    ``None`` (depth already in metric units)."""
    if depth_min is None and depth_max is None:
        return x
    if depth_min is None or depth_max is None:
        raise ValueError('give both depth_min and depth_max (per-image '
                         'normalisation range) or neither')
    return x * (float(depth_max) - float(depth_min)) + float(depth_min)


def _prep(pred, gt, crop_border, depth_min=None, depth_max=None):
    p, g = to_gray2d(pred, 'pred_depth'), to_gray2d(gt, 'gt_depth')
    check_same_shape(pred_depth=p, gt_depth=g)
    if crop_border:
        if min(p.shape) <= 2 * crop_border:
            raise ValueError(f'crop_border={crop_border} leaves nothing of '
                             f'a {p.shape} map')
        p = p[crop_border:-crop_border, crop_border:-crop_border]
        g = g[crop_border:-crop_border, crop_border:-crop_border]
    return (denormalize_depth(p, depth_min, depth_max),
            denormalize_depth(g, depth_min, depth_max))


def gisr_errors(pred: ArrayLike,
                gt: ArrayLike,
                crop_border: int = 0,
                unit_scale: float = 1.0,
                mask_invalid: bool = True,
                data_range: Optional[float] = None,
                depth_min: Optional[float] = None,
                depth_max: Optional[float] = None) -> Dict[str, float]:
    r"""RMSE / MAE (and PSNR with ``data_range``) of one map.

    :math:`RMSE = s\sqrt{\frac{1}{|V|}\sum_{V}(p-g)^2}`,
    :math:`MAE = \frac{s}{|V|}\sum_V|p-g|` over the valid set :math:`V`
    (GT > 0 when ``mask_invalid``, else all pixels, after a
    ``crop_border`` frame is dropped), :math:`s` = ``unit_scale``;
    :math:`PSNR = 10\log_{10}(L^2 / MSE)` in stored units with
    :math:`L` = ``data_range``. With ``depth_min`` / ``depth_max`` both
    maps are first de-normalised from ``[0, 1]`` (:func:`denormalize_depth`).

    Raises:
        ValueError: shapes differ, or no valid pixel remains.
    """
    p, g = _prep(pred, gt, crop_border, depth_min, depth_max)
    valid = g > 0 if mask_invalid else np.ones_like(g, bool)
    n = int(valid.sum())
    if n == 0:
        raise ValueError('no valid ground-truth pixel (all GT <= 0)')
    diff = (p - g)[valid]
    mse = float(np.mean(diff * diff))
    out = dict(
        RMSE=float(unit_scale * np.sqrt(mse)),
        MAE=float(unit_scale * np.mean(np.abs(diff))))
    if data_range is not None:
        out['PSNR'] = float('inf') if mse == 0 else float(
            10 * np.log10(data_range**2 / mse))
    return out
