import logging
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger

from mmfusenas.evaluation.functional.fusion import compute_fusion_metrics
from mmfusenas.evaluation.fusion_presets import cv2_bgr2gray
from mmfusenas.evaluation.metrics import (FusionMetric, GISRMetric,
                                          ImageQualityMetric)
from mmfusenas.registry import METRICS
from mmfusenas.structures import FusionDataSample


def _fusion_sample(a, b, f, stem='x'):
    ds = FusionDataSample(metainfo=dict(stem=stem))
    ds.sources = torch.from_numpy(np.stack([a, b]) / 255).float()
    ds.pred_fused = torch.from_numpy(f / 255)[None].float()
    return ds


def test_registry_builds_all_metrics():
    for cfg, prefix in ((dict(type='FusionMetric'), 'fusion'),
                        (dict(type='ImageQualityMetric'), 'enh'),
                        (dict(type='GISRMetric'), 'gisr')):
        m = METRICS.build(cfg)
        assert m.prefix == prefix


def test_fusion_metric_quantises_and_matches_functional():
    rng = np.random.default_rng(0)
    a = np.round(cv2.GaussianBlur(rng.uniform(0, 255, (48, 48)), (5, 5), 1))
    b = np.round(cv2.GaussianBlur(rng.uniform(0, 255, (48, 48)), (5, 5), 1))
    f = np.round((a + b) / 2)
    ev = Evaluator(FusionMetric(preset='tang', metrics=['EN', 'MI', 'PSNR']))
    s1 = _fusion_sample(a, b, f, 'one')
    # off-grid float prediction: quantised to round(255 x) first
    s2 = _fusion_sample(a, b, f + 0.3, 'two')
    ev.process([s1.to_dict(), s2])
    res = ev.evaluate(2)
    ref = compute_fusion_metrics(a, b, f, 'tang', ['EN', 'MI', 'PSNR'])
    assert set(res) == {'fusion/EN', 'fusion/MI', 'fusion/PSNR'}
    for k, v in ref.items():
        assert res[f'fusion/{k}'] == pytest.approx(v, rel=1e-6)


def test_fusion_metric_golden_tno(shared_data):
    d = osp.join(shared_data, 'fusion', 'TNO')
    a = cv2_bgr2gray(cv2.imread(osp.join(d, 'ir', '01.png')))
    b = cv2_bgr2gray(cv2.imread(osp.join(d, 'vi', '01.png')))
    f = np.round((a + b) / 2)
    m = FusionMetric(preset='cddfuse', metrics=['EN', 'MI', 'Qabf', 'SSIM'])
    m.process(None, [_fusion_sample(a, b, f, '01').to_dict()])
    res = m.compute_metrics(m.results)
    assert m.results[0]['stem'] == '01'
    golden = dict(EN=6.2484, MI=1.4550, Qabf=0.3311, SSIM=1.0232)
    for k, v in golden.items():
        assert round(res[k], 4) == pytest.approx(v, abs=1e-9)


def test_fusion_metric_warns_on_constant_fused():
    """All-black output (untrained weights): EN 0, CC nan, PSNR -inf used to
    be reported without a word; the warning names the pair."""
    rng = np.random.default_rng(0)
    a = np.round(cv2.GaussianBlur(rng.uniform(0, 255, (48, 48)), (5, 5), 1))
    b = np.round(cv2.GaussianBlur(rng.uniform(0, 255, (48, 48)), (5, 5), 1))
    m = FusionMetric(preset='cddfuse', metrics=['EN', 'CC', 'PSNR'],
                     device='cpu')
    m.process(None, [
        _fusion_sample(a, b, np.round((a + b) / 2), 'good').to_dict(),
        _fusion_sample(a, b, np.zeros_like(a), 'black').to_dict()
    ])
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        res = m.compute_metrics(m.results)
    finally:
        logger.removeHandler(handler)
    assert m.results[1]['EN'] == 0.0 and math.copysign(
        1, m.results[1]['EN']) == 1     # 0.0, not -0.0
    assert math.isnan(res['CC'])
    warnings = [r.getMessage() for r in records
                if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    msg = warnings[0]
    assert 'fused image is constant for 1 of 2 pair(s): black (all 0)' in msg
    assert 'non-finite metrics for 1 pair(s): black (CC nan, PSNR -inf)' in msg
    assert 'good' not in msg


def test_fusion_metric_table_names_the_summed_columns():
    """The table ``tools/test.py`` logs showed SSIM values above 1 without
    saying that the column is SSIM(A,F) + SSIM(B,F)."""
    rng = np.random.default_rng(0)
    a = np.round(cv2.GaussianBlur(rng.uniform(0, 255, (48, 48)), (5, 5), 1))
    b = np.round(cv2.GaussianBlur(rng.uniform(0, 255, (48, 48)), (5, 5), 1))
    m = FusionMetric(metrics=['EN', 'SSIM', 'MI'])
    m.process(None, [_fusion_sample(a, b, np.round((a + b) / 2)).to_dict()])
    records = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    level = logger.level  # a bench script run in-process may have raised it
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        m.compute_metrics(m.results)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    (table, ) = [r.getMessage() for r in records
                 if 'fusion metrics (preset cddfuse)' in r.getMessage()]
    assert table.splitlines()[-1] == (
        'SSIM, MI: sums over the two sources (A = first source, IR; B = '
        'second, VI): SSIM = SSIM(A,F) + SSIM(B,F) (at most 2), MI = '
        'MI(A,F) + MI(B,F).')


def test_fusion_metric_bad_input():
    with pytest.raises(KeyError, match='unknown fusion metric'):
        FusionMetric(metrics=['EN', 'QABF'])
    with pytest.raises(KeyError, match='unknown fusion preset'):
        FusionMetric(preset='seafusion')
    m = FusionMetric()
    with pytest.raises(KeyError, match="'sources'"):
        m.process(None, [dict(pred_fused=torch.zeros(1, 8, 8))])
    with pytest.raises(ValueError, match=r'\(2, H, W\)'):
        m.process(None, [dict(pred_fused=torch.zeros(1, 8, 8),
                              sources=torch.zeros(3, 8, 8))])


def test_image_quality_metric_gt_mean():
    gt = torch.rand(3, 24, 24) * 0.8 + 0.1
    pred = gt * 0.5
    m = ImageQualityMetric(metrics=['PSNR', 'PSNR_uint8', 'SSIM'],
                           gt_mean=True)
    m.process(None, [dict(pred_img=pred, gt_img=gt)])
    res = m.compute_metrics(m.results)
    mse = float(((pred - gt).double()**2).mean())
    assert res['PSNR'] == pytest.approx(10 * math.log10(1 / mse), rel=1e-5)
    assert res['PSNR_GTmean'] > 100
    assert res['SSIM_GTmean'] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match='lpips_weights'):
        ImageQualityMetric(metrics=['LPIPS'])
    with pytest.raises(KeyError, match='unknown image-quality'):
        ImageQualityMetric(metrics=['NIQE'])


def test_gisr_metric_denormalises_depth():
    gt = torch.rand(1, 40, 40)
    ev = Evaluator(GISRMetric(preset='nyu', with_bicubic=True))
    ev.process([dict(pred_depth=gt + 0.01, gt_depth=gt, bicubic=gt + 0.02,
                     depth_min=1.0, depth_max=6.0)])
    res = ev.evaluate(1)
    # 0.01 * (6 - 1) m = 5 cm, the bicubic input 10 cm
    assert res['gisr/RMSE'] == pytest.approx(5.0, rel=1e-4)
    assert res['gisr/MAE'] == pytest.approx(5.0, rel=1e-4)
    assert res['gisr/bicubic_RMSE'] == pytest.approx(10.0, rel=1e-4)
