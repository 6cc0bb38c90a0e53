import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.evaluation.functional import fusion as FF
from mmfusenas.evaluation import fusion_presets as P
from mmfusenas.evaluation.functional.fmi_kernel import fmi, fmi_features

GOLDEN_CDDFUSE = dict(EN=6.2484, SD=23.3161, SF=6.6722, AG=2.6036,
                      MI=1.4550, SCD=1.7660, VIF=0.5083, Qabf=0.3311,
                      SSIM=1.0232, CC=0.3971, PSNR=15.5233)


def _rng_img(h=48, w=40, seed=0, smooth=True):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (h, w))
    if smooth:
        x = cv2.GaussianBlur(x, (5, 5), 1.0)
    return np.round(x)


@pytest.fixture(scope='module')
def tno01(shared_data):
    d = osp.join(shared_data, 'fusion', 'TNO')
    a = P.cv2_bgr2gray(cv2.imread(osp.join(d, 'ir', '01.png')))
    b = P.cv2_bgr2gray(cv2.imread(osp.join(d, 'vi', '01.png')))
    return a, b, np.round((a + b) / 2)


# ---------------------------------------------------------------- golden
def test_cddfuse_golden_values(tno01):
    res = FF.compute_fusion_metrics(*tno01, preset='cddfuse')
    assert list(res) == list(P.FUSION_PRESETS['cddfuse']['default'])
    for k, v in GOLDEN_CDDFUSE.items():
        assert round(res[k], 4) == pytest.approx(v, abs=1e-9), k


def test_tang_mi_is_cddfuse_mi_in_bits(tno01):
    mi_c = FF.compute_fusion_metrics(*tno01, 'cddfuse', ['MI'])['MI']
    mi_t = FF.compute_fusion_metrics(*tno01, 'tang', ['MI'])['MI']
    assert mi_t == pytest.approx(mi_c / math.log(2), rel=1e-12)


def test_preset_relations_on_tno(tno01):
    c = FF.compute_fusion_metrics(*tno01, 'cddfuse', 'all')
    t = FF.compute_fusion_metrics(*tno01, 'tang', 'all')
    a, b, f = tno01
    h, w = f.shape
    # Tang: SF on [0,1], AG divided by (M-1)(N-1), PSNR on [0,1] MSE
    assert t['SF'] == pytest.approx(c['SF'] / 255, rel=1e-12)
    assert t['AG'] == pytest.approx(c['AG'] * h * w / ((h - 1) * (w - 1)),
                                    rel=1e-12)
    mse = (np.mean((a - f)**2) + np.mean((b - f)**2)) / 2
    assert t['PSNR'] == pytest.approx(
        10 * math.log10(255**2 / mse) + 20 * math.log10(255), rel=1e-12)
    # the MATLAB uint8 SD is capped by sqrt(255)
    assert t['SD'] < math.sqrt(255) < c['SD']
    for k in ('EN', 'VIF', 'SCD', 'CC'):
        assert t[k] == pytest.approx(c[k], rel=1e-12), k
    for k in ('FMI_pixel', 'FMI_gradient', 'FMI_dct', 'FMI_wavelet',
              'MS_SSIM'):
        assert 0 < c[k] < 1, k


# ------------------------------------------------------ hand-computed cases
def test_entropy_hand_cases():
    two = np.zeros((4, 4))
    two[:, 2:] = 255
    assert FF.entropy(two) == pytest.approx(1.0)
    assert FF.entropy(np.full((5, 5), 7.0)) == 0.0
    four = np.array([[0, 1], [2, 3]], float)
    assert FF.entropy(four) == pytest.approx(2.0)
    assert FF.entropy(two, base=math.e) == pytest.approx(math.log(2))


def test_mi_of_identical_images_equals_entropy():
    x = _rng_img(seed=1)
    assert FF.mutual_information(x, x, base=2) == pytest.approx(
        FF.entropy(x), rel=1e-12)
    # independent constant image carries no information
    assert FF.mutual_information(x, np.zeros_like(x)) == pytest.approx(
        0.0, abs=1e-12)
    assert FF.fusion_mi(x, x, x, base=2) == pytest.approx(2 * FF.entropy(x))


def test_sd_sf_ag_hand_cases():
    assert FF.standard_deviation(np.array([[0., 2.]])) == 1.0
    # MATLAB uint8: round + saturate, then square saturates at 255
    x = np.array([[0., 0., 10., 10.]])
    assert FF.standard_deviation(x, 'matlab_uint8') == pytest.approx(
        math.sqrt(50 / 4))
    y = np.array([[0., 40.]])
    assert FF.standard_deviation(y, 'matlab_uint8') == pytest.approx(
        math.sqrt(255 / 2))
    z = np.array([[0., 1.], [0., 1.]])
    assert FF.spatial_frequency(z) == pytest.approx(1.0)
    assert FF.spatial_frequency(z, 'mn') == pytest.approx(math.sqrt(0.5))
    ramp = np.tile(np.arange(4.0), (3, 1))
    assert FF.average_gradient(ramp) == pytest.approx(math.sqrt(0.5))
    assert FF.average_gradient(ramp, 'm1n1') == pytest.approx(
        12 * math.sqrt(0.5) / 6)


def test_cc_scd_psnr_hand_cases():
    a, b = _rng_img(seed=2), _rng_img(seed=3)
    assert FF.cc(a, a, a) == pytest.approx(1.0)
    assert FF.scd(a, b, a + b) == pytest.approx(2.0)
    f = _rng_img(seed=4) + 10
    mse = 4.0
    assert FF.fusion_psnr(f + 2, f - 2, f) == pytest.approx(
        10 * math.log10(f.max()**2 / mse))
    assert FF.fusion_psnr(f + 2, f - 2, f, peak='255') == pytest.approx(
        10 * math.log10(255**2 / mse))
    assert FF.fusion_psnr(f + 2, f - 2, f, peak='tang') == pytest.approx(
        10 * math.log10(255**2 / mse) + 20 * math.log10(255))
    # VIFB's "mse" helper: sqrt(SSE) / (M N)
    vifb_mse = math.sqrt(4 * f.size) / f.size
    assert FF.fusion_psnr(f + 2, f - 2, f, '255', 'vifb') == pytest.approx(
        20 * math.log10(255 / math.sqrt(vifb_mse)))


def test_ssim_identity_and_vif_identity():
    x = _rng_img(64, 64, seed=5)
    for mode, rng in (('gaussian', 255.0), ('skimage', 2.0)):
        assert FF.ssim(x, x, mode, rng) == pytest.approx(1.0, abs=1e-12)
        assert FF.fusion_ssim(x, x, x, mode, rng) == pytest.approx(2.0)
    assert FF.ssim(x, 255 - x) < 0
    assert FF.vif(x, x) == pytest.approx(1.0, abs=1e-9)
    assert FF.fusion_vif(x, x, x) == pytest.approx(2.0, abs=1e-9)
    big = _rng_img(180, 180, seed=6)
    assert FF.ms_ssim(big, big) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match='176'):
        FF.ms_ssim(x, x)


def test_qabf_nabf_identity():
    x = _rng_img(32, 32, seed=7)
    # the published constants cap Q^{XF} at ~0.9748, reached for A=B=F
    assert FF.qabf_max() == pytest.approx(
        0.9994 / (1 + math.exp(-7.5)) * 0.9879 / (1 + math.exp(-4.4)))
    assert FF.qabf_max() == pytest.approx(0.97479, abs=1e-5)
    assert FF.qabf(x, x, x, equal_rule='one') == pytest.approx(
        FF.qabf_max(), rel=1e-12)
    assert FF.qabf(x, x, x, equal_rule='one',
                   normalize=True) == pytest.approx(1.0, rel=1e-12)
    # the reference codes set G = gF where gA == gF: with strong edges
    # (gF >> 1) Q_g saturates at Gamma_g = 0.9994 instead of Q_g(1)
    assert FF.qabf(x, x, x) == pytest.approx(
        0.9994 * 0.9879 / (1 + math.exp(-4.4)), rel=1e-5)
    assert FF.nabf(x, x, x) == 0.0
    assert FF.nabf(x, x, x, scale=1 / 255) == 0.0


def test_fmi_identity_and_bruteforce():
    x = _rng_img(12, 11, seed=8, smooth=False)
    for feat in ('none', 'gradient', 'edge', 'dct', 'wavelet'):
        assert fmi(x, x, x, feat) == 1.0, feat
    a, b, f = (_rng_img(7, 8, seed=s, smooth=False) for s in (9, 10, 11))
    for feat in ('none', 'dct'):
        ref = _fmi_loop(*(fmi_features(z, feat) for z in (a, b, f)))
        assert fmi(a, b, f, feat) == pytest.approx(ref, rel=1e-10), feat


def _fmi_loop(a, b, f, w=3):
    """Direct per-window transcription of the Fast-FMI reference."""

    def norm(s):
        return np.ones_like(s) if s.max() == s.min() else (s - s.min()) / (
            s.max() - s.min())

    def pair(x, fs):
        xp = norm(x).ravel('F')
        fp = norm(fs).ravel('F')
        xp, fp = xp / xp.sum(), fp / fp.sum()
        xc, fc = np.cumsum(xp), np.cumsum(fp)
        xt, ft = xp - xp.mean(), fp - fp.mean()
        xt[abs(xt) < 1e-12] = 0
        ft[abs(ft) < 1e-12] = 0
        num = (xt * ft).sum()
        c = 0.0 if abs(num) < 1e-12 else num / math.sqrt(
            (xt * xt).sum() * (ft * ft).sum())
        i = np.arange(1, 10)
        xsd = math.sqrt(max((i * i * xp).sum() - (i * xp).sum()**2, 0))
        fsd = math.sqrt(max((i * i * fp).sum() - (i * fp).sum()**2, 0))
        cop = (lambda u, v: min(u, v)) if c >= 0 else (
            lambda u, v: max(u + v - 1, 0))
        cov = sum(cop(fc[p], xc[q]) - fc[p] * xc[q] for p in range(9)
                  for q in range(9))
        k = 0.0 if (c == 0 or xsd == 0 or fsd == 0) else c / (cov /
                                                             (fsd * xsd))
        fc0, xc0 = np.r_[0, fc], np.r_[0, xc]
        je = 0.0
        for p in range(1, 10):
            for q in range(1, 10):
                d = (cop(fc0[p], xc0[q]) - cop(fc0[p - 1], xc0[q]) -
                     cop(fc0[p], xc0[q - 1]) + cop(fc0[p - 1], xc0[q - 1]))
                if p == 1 or q == 1:  # boundaries use C(0, .) = 0
                    d = (cop(fc0[p], xc0[q]) -
                         (cop(fc0[p - 1], xc0[q]) if p > 1 else 0) -
                         (cop(fc0[p], xc0[q - 1]) if q > 1 else 0) +
                         (cop(fc0[p - 1], xc0[q - 1]) if p > 1 and q > 1
                          else 0))
                jp = k * d + (1 - k) * fp[p - 1] * xp[q - 1]
                if jp != 0:
                    je += -jp * math.log2(abs(jp))
        xe = -sum(v * math.log2(v) for v in xp if v > 0)
        fe = -sum(v * math.log2(v) for v in fp if v > 0)
        mi = xe + fe - je
        return 0.0 if mi == 0 else 2 * mi / (xe + fe)

    h, wd = f.shape
    vals = []
    for r in range(h - w + 1):
        for c in range(wd - w + 1):
            sa, sb = a[r:r + w, c:c + w], b[r:r + w, c:c + w]
            sf = f[r:r + w, c:c + w]
            fa = 1.0 if (sa == sf).all() else pair(sa, sf)
            sf_cmp = sf if (sa == sf).all() else norm(sf)
            fb = 1.0 if (sb == sf_cmp).all() else pair(sb, sf)
            vals.append((fa + fb) / 2)
    return float(np.mean(vals))


# -------------------------------------------------------------- invariances
def test_rotation_and_source_swap_invariance():
    a, b = _rng_img(64, 56, seed=12), _rng_img(64, 56, seed=13)
    f = np.round((a + b) / 2)
    names = ['EN', 'SD', 'SF', 'AG', 'MI', 'Qabf', 'Nabf', 'SCD', 'SSIM',
             'CC', 'PSNR']
    for preset in P.FUSION_PRESETS:
        base = FF.compute_fusion_metrics(a, b, f, preset, names)
        swap = FF.compute_fusion_metrics(b, a, f, preset, names)
        # 180-degree rotation negates both Sobel responses; a mirror would
        # not keep Qabf (its pi/2 rule for s_x = 0 is not mirror symmetric)
        flip = FF.compute_fusion_metrics(a[::-1, ::-1], b[::-1, ::-1],
                                         f[::-1, ::-1], preset, names)
        for k in names:
            assert swap[k] == pytest.approx(base[k], rel=1e-9, abs=1e-12)
            assert flip[k] == pytest.approx(base[k], rel=1e-9, abs=1e-12)


def test_scale_invariances():
    a, b = _rng_img(seed=14), _rng_img(seed=15)
    f = np.round((a + b) / 2)
    # correlations are affine invariant
    assert FF.cc(2 * a + 3, b, f) == pytest.approx(FF.cc(a, b, f))
    assert FF.scd(a / 255, b / 255, f / 255) == pytest.approx(
        FF.scd(a, b, f))
    # VIFB's MI stretches each image first
    assert FF.fusion_mi(a, b, f, quantize='minmax') == pytest.approx(
        FF.fusion_mi(a, b, (f - f.min()) * 2 / 3 + 7, quantize='minmax'))
    # FMI windows are min-max normalised
    assert fmi(a, b, f) == pytest.approx(fmi(a / 255, b / 255, f / 255))


def test_torch_and_numpy_inputs_agree():
    a, b = _rng_img(seed=16), _rng_img(seed=17)
    f = np.round((a + b) / 2)
    ref = FF.compute_fusion_metrics(a, b, f, 'vifb')
    tt = [torch.from_numpy(x)[None].float() for x in (a, b, f)]
    batch = FF.compute_fusion_metrics(*tt, preset='vifb')
    assert {k: v.item() for k, v in batch.items()} == pytest.approx(ref)
    tt = [torch.from_numpy(x) for x in (a, b, f)]   # 2-D: one image
    assert FF.compute_fusion_metrics(*tt, preset='vifb') == pytest.approx(ref)


def test_gray_rules():
    g = np.random.default_rng(0).integers(0, 256, (5, 6)).astype(np.uint8)
    bgr = np.repeat(g[..., None], 3, 2)
    assert (P.cv2_bgr2gray(bgr) == g).all()
    assert (P.matlab_rgb2gray(bgr) == g).all()
    px = np.array([[[255, 0, 0]]], np.uint8)  # pure blue in BGR
    assert P.matlab_rgb2gray(px)[0, 0] == round(0.114020904255103 * 255)
    assert P.cv2_bgr2gray(px)[0, 0] == round(0.114 * 255)


def test_bad_inputs_are_named():
    x = _rng_img()
    with pytest.raises(KeyError, match='unknown fusion metric'):
        FF.compute_fusion_metrics(x, x, x, metrics=['EN', 'Entropy'])
    with pytest.raises(KeyError, match="unknown fusion preset 'matlab'"):
        FF.compute_fusion_metrics(x, x, x, preset='matlab')
    with pytest.raises(ValueError, match=r'shape mismatch: a=\(48, 40\)'):
        FF.compute_fusion_metrics(x, x, x[:-1])
    with pytest.raises(ValueError, match='single-channel'):
        FF.entropy(np.zeros((3, 4, 4)))
