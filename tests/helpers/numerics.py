"""Comparisons of float pipelines with stored values, portable across CPUs.

The same float32 convolution, matmul or reduction gives results that differ
in the last bits between CPUs (oneDNN and the BLAS pick kernels by
instruction set), so a stored value made on one machine is reproduced only
within a tolerance. The helpers here state that tolerance once:
:func:`assert_images_close` compares 8-bit images made by rounding a float
pipeline (every value within ``atol`` grey levels except at most
``max_outlier_fraction`` of them, and a mean absolute difference of at
most ``max_mean_abs_diff``; a shift, a channel swap or a wrong scale break
these bounds); :func:`reduction_atol` is the absolute tolerance
``eps · n · scale`` of a float32 result made by ``n`` rounding steps;
:func:`image_difference` reports the differences.
"""
from typing import Optional

import numpy as np
import torch

FLOAT32_EPS = float(torch.finfo(torch.float32).eps)


def reduction_atol(scale: float,
                   num_steps: int,
                   eps: float = FLOAT32_EPS,
                   safety: float = 1.0) -> float:
    """Absolute tolerance ``safety · eps · num_steps · scale``.

    Args:
        scale (float): Magnitude of the summed terms (or of the result).
        num_steps (int): Number of rounding steps between the two
            computations being compared (additions of the reduction, chained
            updates).
        eps (float): Unit roundoff of the dtype. Defaults to float32's.
        safety (float): Factor on the bound. Defaults to 1.

    Returns:
        float: The tolerance.
    """
    if scale < 0 or num_steps < 1 or safety <= 0:
        raise ValueError(f'reduction_atol needs scale >= 0, num_steps >= 1 '
                         f'and safety > 0, got scale={scale}, '
                         f'num_steps={num_steps}, safety={safety}')
    return safety * eps * num_steps * scale


def image_difference(actual: np.ndarray, expected: np.ndarray,
                     atol: int = 1) -> dict:
    """Statistics of ``actual - expected`` (integer images, same shape).

    Returns:
        dict: ``max_abs_diff``, ``mean_abs_diff``, ``outliers`` (number of
        values off by more than ``atol``), ``outlier_fraction`` and
        ``size``.
    """
    if actual.shape != expected.shape:
        raise ValueError(f'shape {actual.shape} != stored {expected.shape}')
    diff = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
    outliers = int((diff > atol).sum())
    return dict(
        max_abs_diff=int(diff.max()) if diff.size else 0,
        mean_abs_diff=float(diff.mean()) if diff.size else 0.0,
        outliers=outliers,
        outlier_fraction=outliers / max(diff.size, 1),
        size=int(diff.size))


def assert_images_close(actual: np.ndarray,
                        expected: np.ndarray,
                        atol: int = 1,
                        max_outlier_fraction: float = 1e-3,
                        max_mean_abs_diff: float = 0.02,
                        name: Optional[str] = None) -> dict:
    """Assert an 8-bit image equals a stored one up to cross-CPU rounding.

    Args:
        actual (np.ndarray): The image made now.
        expected (np.ndarray): The stored image.
        atol (int): Grey levels every value may differ by. Defaults to 1.
        max_outlier_fraction (float): Fraction of the values allowed to
            differ by more than ``atol``. Defaults to 1e-3.
        max_mean_abs_diff (float): Bound on the mean absolute difference in
            grey levels. Defaults to 0.02.
        name (str, optional): What is compared, for the message.

    Returns:
        dict: :func:`image_difference` of the two images.

    Raises:
        AssertionError: On a dtype or shape mismatch or a broken bound; the
            message names ``name``, the bound and the measured value.
    """
    what = f'{name}: ' if name else ''
    if actual.dtype != expected.dtype:
        raise AssertionError(f'{what}dtype {actual.dtype} != stored '
                             f'{expected.dtype}')
    if actual.shape != expected.shape:
        raise AssertionError(f'{what}shape {actual.shape} != stored '
                             f'{expected.shape}')
    stats = image_difference(actual, expected, atol)
    allowed = int(np.floor(max_outlier_fraction * stats['size']))
    if stats['outliers'] > allowed:
        raise AssertionError(
            f'{what}{stats["outliers"]} of {stats["size"]} values differ '
            f'from the stored image by more than {atol} grey level(s) '
            f'(at most {allowed} = {max_outlier_fraction:g} allowed; max '
            f'|diff| {stats["max_abs_diff"]})')
    if stats['mean_abs_diff'] > max_mean_abs_diff:
        raise AssertionError(
            f'{what}mean |diff| {stats["mean_abs_diff"]:.4f} grey levels '
            f'exceeds {max_mean_abs_diff:g}')
    return stats


def assert_equal_states(a, b) -> None:
    """``a`` and ``b`` (nested dicts / lists of tensors and values, e.g. two
    checkpoints) are equal, tensors bit for bit (``torch.equal``)."""
    if isinstance(a, dict):
        assert sorted(a, key=str) == sorted(b, key=str)
        for key in a:
            assert_equal_states(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_equal_states(x, y)
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    else:
        assert a == b
