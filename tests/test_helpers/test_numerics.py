"""helpers.numerics: cross-CPU tolerances, hand-computed cases."""
import numpy as np
import pytest

from helpers.numerics import (FLOAT32_EPS, assert_images_close,
                              image_difference, reduction_atol)


def test_reduction_atol_is_eps_times_steps_times_scale():
    assert FLOAT32_EPS == 2.0**-23
    assert reduction_atol(0.5, 8) == 2.0**-23 * 8 * 0.5
    assert reduction_atol(2.0, 3, eps=0.1, safety=2) == pytest.approx(1.2)
    with pytest.raises(ValueError, match='num_steps >= 1'):
        reduction_atol(1.0, 0)
    with pytest.raises(ValueError, match='scale >= 0'):
        reduction_atol(-1.0, 4)


def test_image_difference_counts_by_hand():
    a = np.array([[0, 10], [20, 255]], np.uint8)
    b = np.array([[1, 10], [23, 250]], np.uint8)
    stats = image_difference(a, b)
    assert stats == dict(max_abs_diff=5, mean_abs_diff=9 / 4, outliers=2,
                         outlier_fraction=0.5, size=4)
    # no uint8 wrap-around: 0 - 1 is -1, not 255
    assert image_difference(a[:1, :1], b[:1, :1])['max_abs_diff'] == 1


def test_assert_images_close_bounds():
    gold = (np.arange(2000) % 251).astype(np.uint8).reshape(40, 50)
    # ±1 everywhere on 2 % of the values: accepted (mean |diff| = 0.02)
    near = gold.copy()
    near.flat[::50] += 1
    assert assert_images_close(near, gold)['mean_abs_diff'] == 0.02
    # one more value off by one: the mean bound fails
    near.flat[1] += 1
    with pytest.raises(AssertionError, match=r'a: mean \|diff\| 0\.0205'):
        assert_images_close(near, gold, name='a')
    # 2 of 2000 values off by 2: 0.1 % allowed; a third is one too many
    far = gold.copy()
    far.flat[[0, 7]] += 2
    assert assert_images_close(far, gold)['outliers'] == 2
    far.flat[9] += 2
    with pytest.raises(AssertionError,
                       match=r'b: 3 of 2000 values differ .* more than 1 '
                       r'grey level\(s\) \(at most 2 = 0\.001 allowed; max '
                       r'\|diff\| 2\)'):
        assert_images_close(far, gold, name='b')
    with pytest.raises(AssertionError, match=r'c: dtype int64 != stored '
                       'uint8'):
        assert_images_close(gold.astype(np.int64), gold, name='c')
    with pytest.raises(AssertionError, match=r'shape \(50, 40\) != stored '
                       r'\(40, 50\)'):
        assert_images_close(gold.T.copy(), gold)
