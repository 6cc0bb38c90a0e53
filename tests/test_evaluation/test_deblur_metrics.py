"""Shift-max PSNR / SSIM (official Levin protocol) and DeblurMetric."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmfusenas.evaluation.functional import (shift_max_psnr,
                                             shift_max_psnr_ssim, ssim)
from mmfusenas.evaluation.metrics import DeblurMetric


def test_shift_max_hand_cases():
    rng = np.random.default_rng(0)
    gt = rng.random((30, 32))
    # constant error 0.1 -> PSNR = 10 log10(1 / 0.01) = 20 dB at offset 0
    p, s, off = shift_max_psnr_ssim(gt + 0.1, gt, border=3)
    assert p == pytest.approx(20.0) and off == (0, 0)
    # a prediction shifted by (1, -1): the plain metric is poor, the
    # shift-max metric finds the offset and is exact
    pred = np.roll(gt, (-1, 1), axis=(0, 1))  # pred[i, j] = gt[i+1, j-1]
    p, s, off = shift_max_psnr_ssim(pred, gt, border=3)
    assert off == (1, -1) and p == float('inf')
    assert s == pytest.approx(1.0)
    plain = shift_max_psnr(pred, gt, border=3, max_shift=0)
    crop = (slice(3, -3), slice(3, -3))
    want = 10 * np.log10(1 / np.mean((pred[crop] - gt[crop])**2))
    assert plain == pytest.approx(want)
    # SSIM at the best offset, skimage convention by default
    noisy = gt + 0.05 * rng.standard_normal(gt.shape)
    _, s, off = shift_max_psnr_ssim(noisy, gt, border=2, max_shift=0)
    assert s == pytest.approx(ssim(noisy[2:-2, 2:-2], gt[2:-2, 2:-2],
                                   'skimage', 1.0))
    with pytest.raises(ValueError, match='max_shift'):
        shift_max_psnr(gt, gt, border=2, max_shift=3)


def test_deblur_metric_colour_and_kernel_border():
    rng = np.random.default_rng(1)
    gt = torch.from_numpy(rng.random((3, 24, 24)))
    pred = gt + 0.1
    sample = BaseDataElement(pred_img=pred, gt_img=gt, kernel_size=(7, 7))
    metric = DeblurMetric(shift_max=False)
    metric.process(None, [sample])
    assert metric.results[0]['PSNR'] == pytest.approx(20.0)
    res = metric.compute_metrics(metric.results)
    assert res['PSNR'] == pytest.approx(20.0)
    shifted = BaseDataElement(
        pred_img=torch.roll(gt, (-2, 0), dims=(1, 2)), gt_img=gt,
        kernel=torch.ones(5, 5))
    m2 = DeblurMetric()
    m2.process(None, [shifted])
    assert m2.results[0]['PSNR'] == float('inf')
    with pytest.raises(ValueError, match='border'):
        DeblurMetric(border=-1)
