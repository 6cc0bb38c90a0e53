"""Guided depth super-resolution metrics (NYU v2 conventions)."""
from typing import Optional

import numpy as np

from ._utils import ArrayLike, check_same_shape, to_gray2d

__all__ = ['denormalize_depth', 'depth_rmse', 'depth_mae']


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


def _prep(pred, gt, depth_min, depth_max, crop_border):
    p, g = to_gray2d(pred, 'pred_depth'), to_gray2d(gt, 'gt_depth')
    check_same_shape(pred_depth=p, gt_depth=g)
    if crop_border:
        if min(p.shape) <= 2 * crop_border:
            raise ValueError(f'crop_border={crop_border} leaves nothing of '
                             f'a {p.shape} depth map')
        p = p[crop_border:-crop_border, crop_border:-crop_border]
        g = g[crop_border:-crop_border, crop_border:-crop_border]
    return (denormalize_depth(p, depth_min, depth_max),
            denormalize_depth(g, depth_min, depth_max))


def depth_rmse(pred: ArrayLike,
               gt: ArrayLike,
               depth_min: Optional[float] = None,
               depth_max: Optional[float] = None,
               crop_border: int = 6,
               unit_scale: float = 100.0) -> float:
    r"""RMSE of a depth map, NYU v2 guided-SR convention.

    ``pred`` / ``gt`` normalised to ``[0, 1]`` with the image's own
    ``(depth_min, depth_max)`` in metres are de-normalised
    (:func:`denormalize_depth`), a ``crop_border``-pixel frame (6 on NYU v2)
    is dropped, and

    .. math:: RMSE = s\sqrt{\frac{1}{N}\sum (D_{pred}-D_{gt})^2}

    with :math:`s` = ``unit_scale`` (100: metres -> centimetres).
    """
    p, g = _prep(pred, gt, depth_min, depth_max, crop_border)
    return float(unit_scale * np.sqrt(np.mean((p - g)**2)))


def depth_mae(pred: ArrayLike,
              gt: ArrayLike,
              depth_min: Optional[float] = None,
              depth_max: Optional[float] = None,
              crop_border: int = 6,
              unit_scale: float = 100.0) -> float:
    r"""Mean absolute error, same conventions as :func:`depth_rmse`:
    :math:`MAE = s\frac{1}{N}\sum|D_{pred}-D_{gt}|`."""
    p, g = _prep(pred, gt, depth_min, depth_max, crop_border)
    return float(unit_scale * np.mean(np.abs(p - g)))
