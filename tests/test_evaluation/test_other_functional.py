import math

import numpy as np
import pytest
import torch

from mmfusenas.evaluation.functional import (LPIPS, gisr_errors,
                                             gt_mean_correct, psnr,
                                             ssim_uint8)


def _img(seed=0, shape=(3, 32, 40)):
    return np.random.default_rng(seed).uniform(0.1, 0.8, shape)


def test_psnr_hand_cases():
    gt = _img()
    assert psnr(np.clip(gt + 0.1, 0, 1), gt) == pytest.approx(20.0)
    # uint8: 0.1 * 255 = 25.5 levels, rounded separately per image
    gt8 = np.full((3, 4, 4), 100 / 255)
    assert psnr(gt8 + 10 / 255, gt8, 'uint8') == pytest.approx(
        10 * math.log10(255**2 / 100))
    assert psnr(gt, gt) == float('inf')
    with pytest.raises(ValueError, match='shape mismatch'):
        psnr(gt, gt[:, :-1])


def test_ssim_uint8_and_gt_mean():
    gt = _img(1)
    assert ssim_uint8(gt, gt) == pytest.approx(1.0)
    assert ssim_uint8(torch.from_numpy(gt), torch.from_numpy(gt)) == 1.0
    dark = gt * 0.5
    assert ssim_uint8(dark, gt) < 1
    fixed = gt_mean_correct(dark, gt)
    np.testing.assert_allclose(fixed, gt, atol=1e-12)


def test_lpips_needs_local_weights(tmp_path):
    with pytest.raises(ValueError, match='local weights'):
        LPIPS(None)
    with pytest.raises(FileNotFoundError, match='not found'):
        LPIPS(str(tmp_path / 'missing.pth'))
    torch.manual_seed(0)
    model = LPIPS.__new__(LPIPS)
    torch.nn.Module.__init__(model)
    # build a random but complete weights file and load it back
    feats = torch.nn.Sequential(
        torch.nn.Conv2d(3, 64, 11, 4, 2), torch.nn.ReLU(),
        torch.nn.MaxPool2d(3, 2), torch.nn.Conv2d(64, 192, 5, padding=2),
        torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2),
        torch.nn.Conv2d(192, 384, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(384, 256, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(256, 256, 3, padding=1))
    sd = {f'features.{k}': v for k, v in feats.state_dict().items()}
    for i, c in enumerate((64, 192, 384, 256, 256)):
        sd[f'lin{i}.model.1.weight'] = torch.rand(1, c, 1, 1)
    path = tmp_path / 'lpips_alex_full.pth'
    torch.save(sd, path)
    lp = LPIPS(str(path))
    x = torch.rand(3, 64, 64)
    assert float(lp(x, x)[0]) == 0.0
    assert float(lp(x, torch.rand(3, 64, 64))[0]) > 0
    del sd['lin3.model.1.weight']
    torch.save(sd, path)
    with pytest.raises(KeyError, match='lin3'):
        LPIPS(str(path))


def test_gisr_errors_denormalise_and_crop():
    gt = np.random.default_rng(2).uniform(0.1, 1, (1, 30, 30))
    pred = gt + 0.01
    pred[0, 0, 0] += 5  # inside the 6-pixel border: ignored
    # de-normalised with (min, max) = (0.5, 10.5) m -> 0.1 m = 10 cm
    out = gisr_errors(pred, gt, 6, 100.0, depth_min=0.5, depth_max=10.5)
    assert out['RMSE'] == pytest.approx(10.0)
    assert out['MAE'] == pytest.approx(10.0)
    assert gisr_errors(pred, gt, 0, 100.0, depth_min=0.5,
                       depth_max=10.5)['RMSE'] > 10.0
    # metric inputs (no normalisation), unit scale 1
    assert gisr_errors(gt + 2, gt)['RMSE'] == pytest.approx(2.0)
    with pytest.raises(ValueError, match='both depth_min and depth_max'):
        gisr_errors(pred, gt, depth_min=0.5)
