"""GISR metric presets on hand-computed cases."""
import numpy as np
import pytest
import torch

from mmfusenas.evaluation.functional import (GISR_PRESETS, gisr_errors,
                                             resolve_gisr_preset)
from mmfusenas.evaluation.metrics import GISRMetric


def test_nyu_preset_crop_and_centimetres():
    gt = np.full((20, 20), 2.0)
    pred = gt + 0.01
    pred[:6] += 5.0  # inside the 6-px border: ignored
    out = gisr_errors(pred, gt, **{
        k: v
        for k, v in GISR_PRESETS['nyu'].items() if k != 'data_range'
    })
    assert out['RMSE'] == pytest.approx(1.0)
    assert out['MAE'] == pytest.approx(1.0)


def test_mask_invalid_and_units():
    gt = np.array([[0.0, 100.0], [200.0, 300.0]])  # mm, one hole
    pred = np.array([[999.0, 110.0], [190.0, 300.0]])
    # rgbdd: mm -> cm; the hole is not scored
    e = gisr_errors(pred, gt, 0, 0.1, True)
    assert e['RMSE'] == pytest.approx(0.1 * np.sqrt(200 / 3))
    assert e['MAE'] == pytest.approx(0.1 * 20 / 3)
    e2 = gisr_errors(pred, gt, 0, 0.1, False)
    assert e2['MAE'] == pytest.approx(0.1 * (999 + 20) / 4)
    with pytest.raises(ValueError, match='no valid'):
        gisr_errors(pred, np.zeros((2, 2)))


def test_psnr_and_metric_class():
    gt = np.full((16, 16), 100.0)
    pred = gt + 10.0
    out = gisr_errors(pred, gt, data_range=255.0)
    assert out['PSNR'] == pytest.approx(10 * np.log10(255**2 / 100))
    m = GISRMetric(preset='middlebury', metrics=('RMSE', 'PSNR', 'SSIM'),
                   with_bicubic=True)
    m.process({}, [
        dict(pred_depth=torch.tensor(pred), gt_depth=torch.tensor(gt),
             bicubic=torch.tensor(gt + 20.0))
    ])
    res = m.compute_metrics(m.results)
    assert res['RMSE'] == pytest.approx(10.0)
    assert res['bicubic_RMSE'] == pytest.approx(20.0)
    assert 0 < res['SSIM'] <= 1
    with pytest.raises(KeyError, match='valid'):
        resolve_gisr_preset('kitti')
    with pytest.raises(KeyError, match='unknown GISR metric'):
        GISRMetric(metrics=('AbsRel', ))
    assert resolve_gisr_preset('nyu', crop_border=0)['crop_border'] == 0
