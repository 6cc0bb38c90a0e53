"""The ivif_zoo metrics: hand-computed cases and IVIF_ZOO's own values on
real pairs."""
import glob
import json
import math
import os.path as osp

import cv2
import numpy as np
import pytest
from PIL import Image

from mmfusenas.evaluation.functional import fusion as FF
from mmfusenas.evaluation.functional.fusion import (PRESET_FNS,
                                                    compute_fusion_metrics)
from mmfusenas.evaluation.fusion_presets import (IVIF_ZOO_METRICS,
                                                 pil_gray)

#: the preset's functions (shared with the other presets where IVIF_ZOO's
#: formula is theirs)
P = PRESET_FNS['ivif_zoo']
SOBEL_X = np.array([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
REFERENCE = osp.join(REPO, 'tests', 'data', 'ivif_zoo_reference_values.json')
FUSION = osp.join(osp.dirname(REPO), 'shared', 'data', 'fusion')


def test_pil_gray_is_pil_convert_l():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    pil = np.array(Image.fromarray(bgr[..., ::-1].copy()).convert('L'))
    assert np.array_equal(pil_gray(bgr), pil)
    gray = bgr[..., 0]
    assert np.array_equal(pil_gray(np.repeat(gray[..., None], 3, 2)),
                          gray)


def _two_levels():
    """Half the pixels 0, half 255, in a scattered arrangement."""
    img = np.zeros((16, 16))
    img[np.random.default_rng(1).permutation(256).reshape(16, 16) < 128] \
        = 255
    return img


def test_entropies_mi_nmi_by_hand():
    a = _two_levels()
    b = np.full((16, 16), 77.0)
    # EN: two levels of p = 1/2 with IVIF_ZOO's 1e-7 in the log
    assert P['EN'](a, a, a) == pytest.approx(-math.log2(0.5 + 1e-7),
                                               abs=1e-15)
    h_a = -math.log2(0.5 + 1e-10)
    h_b = -math.log2(1 + 1e-10)
    # TE = H(A) + H(B) - H(F) with F = A
    assert P['TE'](a, b, a) == pytest.approx(h_b, abs=1e-12)
    # MI(A, A) = H(A) = 1 bit, MI(B, A) = 0 (B constant)
    assert P['MI'](a, b, a) == pytest.approx(1.0, abs=1e-12)
    assert P['NMI'](a, b, a) == pytest.approx(2 / (h_a + h_b + 1e-10),
                                                 rel=1e-12)


def test_qncie_of_uncorrelated_images():
    """Mutually uncorrelated images: R = I, eigenvalues 1, 1, 1."""
    col = np.tile([0., 1.], (4, 2))                    # columns alternate
    row = np.tile([[0.], [1.]], (2, 4))                # rows alternate
    chk = np.abs(col - row)                            # checkerboard
    assert P['QNCIE'](col * 255, row * 200, chk * 99) == pytest.approx(
        1 - math.log2(3) / 8, abs=1e-12)


def test_gradient_metrics_by_hand():
    f = np.array([[0., 3., 6.], [0., 3., 6.], [0., 3., 6.], [0., 3., 6.]])
    # SF: row differences all 0, column differences all 3
    assert P['SF'](f, f, f) == pytest.approx(3.0, abs=1e-12)
    # AG: numpy.gradient gives gx = 3 everywhere, gy = 0
    assert P['AG'](f, f, f) == pytest.approx(3 / math.sqrt(2),
                                                        abs=1e-12)
    # SD: population standard deviation of {0, 3, 6}
    assert P['SD'](f, f, f) == pytest.approx(math.sqrt(6),
                                                          abs=1e-12)
    # EI: Sobel with zero padding, by explicit sums over the padded image
    p = np.pad(f, 1)
    gx = sum(w * p[i:i + 4, j:j + 3] for (i, j), w in np.ndenumerate(
        SOBEL_X))
    gy = sum(w * p[i:i + 4, j:j + 3] for (i, j), w in np.ndenumerate(
        SOBEL_X.T))
    assert P['EI'](f, f, f) == pytest.approx(
        np.mean(np.hypot(gx, gy)), abs=1e-12)


def test_mse_psnr_cc_scd_ce_by_hand():
    a = np.zeros((4, 5))
    b = np.full((4, 5), 255.0)
    f = np.zeros((4, 5))
    assert P['MSE'](a, b, f) == 0.5          # (0 + 1) / 2, unit scale
    assert P['PSNR'](a, b, f) == pytest.approx(
        20 * math.log10(255 / math.sqrt(0.5)), abs=1e-12)
    rng = np.random.default_rng(2)
    x, y = rng.random((2, 8, 8)) * 255
    r = np.corrcoef(x.ravel(), y.ravel())[0, 1]
    assert P['CC'](x, y, x) == pytest.approx((1 + r) / 2, abs=1e-12)
    # SCD with F = A + B: corr(A, A) + corr(B, B) = 2
    assert P['SCD'](x, y, x + y) == pytest.approx(2.0, abs=1e-12)
    # CE of sigmoid(0) = 1/2 against 1/2: ln 2 (float32)
    zero = np.zeros((3, 3))
    assert P['CE'](zero, zero, zero) == pytest.approx(
        math.log(2), rel=1e-6)


def _texture(shape, seed):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.random(shape) * 255, (0, 0), 2)


def test_structural_metrics_of_identical_images():
    a = _texture((180, 200), 3)
    assert P['SSIM'](a, a, a) == pytest.approx(2.0, abs=1e-12)
    assert P['MS_SSIM'](a, a, a) == pytest.approx(2.0, abs=1e-12)
    assert P['Qy'](a, a, a) == pytest.approx(1.0, abs=1e-12)
    assert FF.qy(a, a, a, window='gaussian') == pytest.approx(
        1.0, abs=1e-12)
    assert P['VIF'](a, a, a) == pytest.approx(2.0, abs=1e-8)
    # Qcb of F = A = B: Q = 1 where the contrast is large, 2c^2 / (2c^2 +
    # 1e-10) in general; c from an independent implementation (the CSF on
    # numpy's FFT, the full 31 x 31 Gaussians with scipy)
    from scipy import ndimage
    n = (a - a.min()) / (a.max() - a.min())
    u = np.fft.fftfreq(180)[:, None] * 6
    v = np.fft.fftfreq(200)[None, :] * (200 / 30)
    r = np.hypot(u, v)
    csf = np.exp(-(r / 15.387)**2) - 0.7622 * np.exp(-(r / 1.3456)**2)
    n = np.real(np.fft.ifft2(np.fft.fft2(n) * csf))
    t = np.arange(-15, 16)
    blur = [ndimage.correlate(n, np.exp(-(t[:, None]**2 + t**2) / (
        2 * s * s)) / (2 * np.pi * s * s), mode='constant') for s in (2, 4)]
    c = np.abs(blur[0] / (blur[1] + 1e-10) - 1)
    c = c**3 / (c**2 + 1e-4)
    assert P['Qcb'](a, a, a) == pytest.approx(
        np.mean(2 * c * c / (2 * c * c + 1e-10)), rel=1e-9)
    assert P['Nabf'](a, a, a) == 0.0         # nothing sharper than A
    # Qabf of F = A = B: per pixel Q_g(g) Q_a(alignment 1), weighted by g;
    # IVIF_ZOO's strength ratio where g_A = g_F is g_F itself
    g = np.hypot(cv2.filter2D(a, -1, SOBEL_X,
                              borderType=cv2.BORDER_CONSTANT),
                 cv2.filter2D(a, -1, SOBEL_X.T,
                              borderType=cv2.BORDER_CONSTANT))
    q = 0.9994 / (1 + np.exp(-15 * (g - 0.5))) * 0.9879 / (
        1 + math.exp(-22 * 0.2))
    assert P['Qabf'](a, a, a) == pytest.approx(
        np.sum(q * g) / np.sum(g), rel=1e-12)


def test_ms_ssim_refuses_small_images():
    a = _texture((150, 400), 4)
    with pytest.raises(ValueError, match='above 160 pixels'):
        P['MS_SSIM'](a, a, a)


def test_qy_window_is_checked():
    a = _texture((20, 20), 5)
    with pytest.raises(ValueError, match="'ivif_zoo' or 'gaussian'"):
        FF.qy(a, a, a, window='box')


@pytest.mark.golden
def test_values_agree_with_ivif_zoo_on_real_pairs():
    """IVIF_ZOO's own evaluation_one on TNO and RoadScene pairs (values in
    tests/data, with the commit and how they were made): every metric
    within 1e-3 relative (1e-4 absolute below 0.1)."""
    if not osp.isdir(FUSION):
        pytest.skip(f'shared data not found: {FUSION}')
    with open(REFERENCE) as f:
        record = json.load(f)
    assert len(record['values']) == 4
    for key, ref in record['values'].items():
        dataset, stem, rule = key.split('/')
        ir, vi = (glob.glob(osp.join(FUSION, dataset, m, stem + '.*'))[0]
                  for m in ('ir', 'vi'))
        a = cv2.imread(ir, cv2.IMREAD_COLOR).astype(np.float64)
        b = cv2.imread(vi, cv2.IMREAD_COLOR).astype(np.float64)
        f = np.floor((a + b) / 2 + 0.5) if rule == 'mean' else \
            np.maximum(a, b)
        gray = [pil_gray(x.astype(np.uint8)) for x in (a, b, f)]
        ours = compute_fusion_metrics(*gray, 'ivif_zoo', 'all')
        assert tuple(ours) == IVIF_ZOO_METRICS
        for name, value in ref.items():
            tol = dict(abs=1e-4) if abs(value) < 0.1 else dict(rel=1e-3)
            assert ours[name] == pytest.approx(value, **tol), (key, name)
