"""Compiled per-pixel kernels, the per-pair cache and the other exact
speed-ups of the fusion metrics: same values as before and as the
reference evaluator."""
import json
import math
import os.path as osp
import threading

import cv2
import numpy as np
import pytest

from mmfusenas.evaluation.functional import fusion as FF
from mmfusenas.evaluation.functional import fusion_kernels as FK
from helpers.numerics import reduction_atol
from test_fusion_functional import _rng_img

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOLDENS = osp.join(ROOT, 'tests', 'data', 'fusion_metrics_goldens.json')
NON_FMI = [m for m in FF.FUSION_METRICS if not m.startswith('FMI')]

needs_numba = pytest.mark.skipif(FK.kernels(True) is None,
                                 reason='numba not importable')
#: VIF's relative tolerance between filter implementations (OpenCV's
#: kernels of other CPUs, or another summation order): on images with
#: near-flat regions the local variance ``G(x^2) - G(x)^2`` of a few pixels
#: is ~1e-9 against ``G(x^2)`` ~ 4e4, so it keeps only ~2 digits, and those
#: pixels' terms ``s12^2 / s1`` (~1e-3) move by ~1e-5 with a few ulp of the
#: filter outputs; F rounded down moves VIF by 3e-3.
VIF_REL = 1e-8


def _tno(shared_data, stem, preset):
    d = osp.join(shared_data, 'fusion', 'TNO')
    gray = FF.FUSION_PRESETS[preset]['gray']
    a = gray(cv2.imread(osp.join(d, 'ir', stem)))
    b = gray(cv2.imread(osp.join(d, 'vi', stem)))
    return a, b, np.round((a + b) / 2)


def _both_paths(monkeypatch, fn):
    """``fn()`` with the compiled kernels and with the numpy chains."""
    out = []
    for use in (True, False):
        monkeypatch.setattr(FK, 'USE_NUMBA', use)
        out.append(fn())
    return out


# ------------------------------------------------------- math primitives
@needs_numba
def test_vexp_vatan_match_libm_to_one_ulp():
    import numba
    FK.kernels(True)    # compiles the helpers (module globals)

    @numba.njit
    def run(x, e, t):
        for i in range(x.size):
            e[i] = FK._vexp(x[i])
            t[i] = FK._vatan(x[i])

    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.uniform(-40, 40, 200000), rng.uniform(-708, 709, 50000),
        rng.standard_normal(50000) * 1e-3,
        10.0**rng.uniform(-300, 300, 20000) * rng.choice([-1, 1], 20000),
        [0.0, -0.0, 0.66, 2.414213562373095, 1.0, -1.0, 700.0, -700.0]
    ])
    e, t = np.empty_like(x), np.empty_like(x)
    run(x, e, t)
    with np.errstate(over='ignore'):
        ref_e, ref_t = np.exp(x), np.arctan(x)
    # <= 1 ulp from libm (the two differ in the last bit at most); exp on
    # its unclamped range
    ok = (x >= -708) & (x <= 709)
    assert ok.sum() > 300000
    assert np.all(np.abs(e[ok] - ref_e[ok]) <= np.spacing(ref_e[ok])), 'exp'
    assert np.all(np.abs(t - ref_t) <= np.spacing(np.abs(ref_t))), 'atan'
    assert np.all(e[x > 709.8] == np.inf)
    # and most are bit-identical
    assert np.mean(e[ok] == ref_e[ok]) > 0.9 and np.mean(t == ref_t) > 0.9
    # special values
    s = np.array([np.inf, -np.inf, np.nan, 710.0, -800.0, -1e300])
    e, t = np.empty_like(s), np.empty_like(s)
    run(s, e, t)
    assert t[0] == math.pi / 2 and t[1] == -math.pi / 2 and np.isnan(t[2])
    assert e[3] == np.inf and e[0] == np.inf and np.isnan(e[2])
    # below -708 the clamp gives exp(-708) (< 3.4e-308), which vanishes
    # next to the 1 that Qabf adds to it
    assert 0 <= e[4] < 3.4e-308 and e[4] + 1 == 1 and e[5] + 1 == 1


# ------------------------------------------------- kernels == numpy chains
@needs_numba
@pytest.mark.parametrize('stem', ['01.png', '03.png'])
def test_kernels_equal_numpy_chains_on_tno(shared_data, monkeypatch, stem):
    for preset in FF.FUSION_PRESETS:
        a, b, f = _tno(shared_data, stem, preset)
        fast, slow = _both_paths(
            monkeypatch, lambda: FF.compute_fusion_metrics(
                a, b, f, preset, NON_FMI, parallel=False))
        for m in NON_FMI:
            rel = VIF_REL if m == 'VIF' else 1e-12
            assert fast[m] == pytest.approx(slow[m], rel=rel,
                                            abs=1e-15), (preset, m)
        # bit-identical per-pixel values and sums, except Nabf's g sqrt(g)
        # vs g^1.5 and VIF (its compiled filter and log2 against OpenCV's
        # filter and log: VIF_REL)
        assert fast['SSIM'] == slow['SSIM'] and fast['Qabf'] == slow['Qabf']
        assert fast['Nabf'] == pytest.approx(slow['Nabf'], rel=1e-14)


@needs_numba
def test_kernels_equal_numpy_chains_edge_cases(monkeypatch):
    a, b = _rng_img(64, 72, 1), _rng_img(64, 72, 2)
    flat = np.full((64, 72), 7.0)
    cases = [(a, b, np.round((a + b) / 2)), (a, a, a), (a, flat, a),
             (flat, b, flat), (a, b, flat), (a, 255 - a, b)]
    for x, y, f in cases:
        for kw in (dict(), dict(scale=1 / 255), dict(equal_rule='one'),
                   dict(equal_rule='one', normalize=True)):
            fast, slow = _both_paths(monkeypatch,
                                     lambda: FF.qabf(x, y, f, **kw))
            assert fast == pytest.approx(slow, rel=1e-13), kw
        for scale in (1.0, 1 / 255):
            fast, slow = _both_paths(monkeypatch,
                                     lambda: FF.nabf(x, y, f, scale))
            assert fast == pytest.approx(slow, rel=1e-13), scale
        fast, slow = _both_paths(monkeypatch, lambda: FF.fusion_vif(x, y, f))
        assert fast == pytest.approx(slow, rel=1e-14)
        for mode, rng in (('skimage', 2.0), ('gaussian', 255.0)):
            fast, slow = _both_paths(
                monkeypatch, lambda: FF.fusion_ssim(x, y, f, mode, rng))
            assert fast == slow
    # A = B = F: Qabf with the paper's rule and normalisation is exactly 1
    # on both paths; a flat reference gives VIF 1 (NaN ratio), as cddfuse
    for v in _both_paths(monkeypatch, lambda: FF.qabf(
            a, a, a, equal_rule='one', normalize=True)):
        assert v == pytest.approx(1.0, abs=1e-15)
    for v in _both_paths(monkeypatch, lambda: FF.vif(flat, a)):
        assert v == 1.0
    # (a flat non-zero image has edges at the zero-padded border)
    zero = np.zeros_like(a)
    for use in (True, False):
        monkeypatch.setattr(FK, 'USE_NUMBA', use)
        with pytest.raises(ValueError, match='both sources have no edges'):
            FF.qabf(zero, zero, a)


def test_kernels_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(FK, 'USE_NUMBA', False)
    assert FK.kernels() is None
    assert FK.kernels(False) is None


# ------------------------------------------ same values as before / reference
@pytest.mark.golden
def test_values_equal_the_previous_implementation(shared_data):
    """The stored values of the code before the compiled kernels, within
    float64 eps x pixels relative: the metrics are float64 sums over the
    image whose blocking (NumPy's SIMD loops and transcendental functions,
    OpenCV's filters) depends on the CPU. An F rounded down instead of to
    nearest moves every metric by > 1e4 x the tolerance (PSNR, which
    averages the squared distance to A and B, the same for either neighbour
    of (A + B) / 2: a one-pixel shift of F does). VIF within
    :data:`VIF_REL`, and F rounded down moves
    it by > 1e4 x that."""
    with open(GOLDENS) as fh:
        goldens = json.load(fh)['values']
    for stem, presets in goldens.items():
        for preset, ref in presets.items():
            a, b, f = _tno(shared_data, stem, preset)
            tol = reduction_atol(1.0, a.size, eps=float(np.finfo(float).eps))
            res = FF.compute_fusion_metrics(a, b, f, preset, NON_FMI)
            for m in NON_FMI:
                rel = VIF_REL if m == 'VIF' else tol
                assert res[m] == pytest.approx(ref[m], rel=rel,
                                               abs=0.0), (stem, preset, m)
    # real errors are seen: F rounded down, F shifted by one pixel
    a, b, f = _tno(shared_data, '01.png', 'cddfuse')
    ref = goldens['01.png']['cddfuse']
    res = FF.compute_fusion_metrics(a, b, np.floor((a + b) / 2), 'cddfuse',
                                    NON_FMI)
    res['PSNR'] = FF.compute_fusion_metrics(a, b, np.roll(f, 1, axis=1),
                                            'cddfuse', ['PSNR'])['PSNR']
    moved = {m: abs(res[m] - ref[m]) / abs(ref[m]) for m in NON_FMI}
    assert moved.pop('VIF') > 1e4 * VIF_REL
    assert min(moved.values()) > 1e4 * tol, moved


def test_default_suite_agrees_with_reference_evaluator(shared_data):
    import helpers.reference_fusion_evaluator as ref
    # a 288x384 crop: the reference VIF alone takes ~3 s on a full pair
    a, b, f = (x[100:388, 200:584] for x in _tno(shared_data, '01.png',
                                                 'cddfuse'))
    ours = FF.compute_fusion_metrics(a, b, f, 'cddfuse')
    for m, v in ours.items():
        tol = 1e-10 if m == 'VIF' else 1e-12
        assert v == pytest.approx(float(ref.FUNCS[m](a, b, f)), rel=0,
                                  abs=tol), m


def test_vif_log_base_cancels():
    # the numpy chain sums ln; the reference formula (log10) gives the same
    # ratio: hand-computed on one scale of a small pair
    a, f = _rng_img(96, 80, 3), _rng_img(96, 80, 4)
    (k, _, ga, qa), (_, _, gf, qf) = FF._vif_scales(a)[0], FF._vif_scales(f)[0]
    (mu1, s1), (mu2, s2) = FF._vif_moments(ga, qa), FF._vif_moments(gf, qf)
    n, d = FF._vif_chain(FF._sep_valid(a, k, f), mu1, mu2, s1.copy(), s2,
                         2.0)
    # (G(x^2) - G(x)^2, clamped) is the local variance of the reference
    np.testing.assert_allclose(
        s1, np.maximum(FF._sep_valid(a * a, k) - mu1 * mu1, 0), rtol=0,
        atol=0)
    eps = 1e-10
    s12 = FF._sep_valid(a * f, k) - mu1 * mu2
    g = s12 / (s1 + eps)
    sv = s2 - g * s12
    m1 = s1 < eps
    g, sv, s1 = np.where(m1, 0, g), np.where(m1, s2, sv), np.where(m1, 0, s1)
    m2 = s2 < eps
    g, sv = np.where(m2, 0, g), np.where(m2, 0, sv)
    m3 = g < 0
    g, sv = np.where(m3, 0, g), np.where(m3, s2, sv)
    assert m3.any()     # the clamps matter on this pair
    sv = np.maximum(sv, eps)
    num10 = np.log10(1 + g * g * s1 / (sv + 2.0)).sum()
    den10 = np.log10(1 + s1 / 2.0).sum()
    assert n / d == pytest.approx(num10 / den10, rel=1e-13)
    assert d == pytest.approx(den10 * math.log(10), rel=1e-13)


def test_average_gradient_equals_numpy_gradient():
    rng = np.random.default_rng(5)
    for shape in ((2, 2), (2, 7), (9, 3), (31, 40)):
        x = rng.uniform(0, 255, shape)
        gy, gx = np.gradient(x)
        s = np.sqrt((gx * gx + gy * gy) / 2.0).sum()
        assert FF.average_gradient(x) == s / x.size
        h, w = shape
        assert FF.average_gradient(x, 'm1n1') == s / ((h - 1) * (w - 1))


# ------------------------------------------------------------ pair cache
def test_pair_cache_values_equal_uncached(shared_data):
    for preset in FF.FUSION_PRESETS:
        a, b, f = _tno(shared_data, '02.png', preset)
        with_cache = FF.compute_fusion_metrics(a, b, f, preset, NON_FMI)
        without = FF.compute_fusion_metrics(a, b, f, preset, NON_FMI,
                                            use_cache=False)
        assert with_cache == without, preset
        # and each cache-aware function called on its own
        cache = FF.FusionPairCache(a, b, f)
        assert FF.entropy(f, cache=cache) == FF.entropy(f)
        assert FF.standard_deviation(f, cache=cache) == \
            FF.standard_deviation(f)
        assert FF.fusion_mi(a, b, f, cache=cache) == FF.fusion_mi(a, b, f)
        assert FF.cc(a, b, f, cache=cache) == FF.cc(a, b, f)
        assert FF.scd(a, b, f, cache=cache) == FF.scd(a, b, f)


def test_pair_cache_hand_values_and_identity():
    a = np.array([[0., 1.], [2., 3.]])
    b = np.array([[4., 4.], [4., 8.]])
    f = np.array([[0.4, 0.6], [255.7, -3.]])
    cache = FF.FusionPairCache(a, b, f)
    np.testing.assert_array_equal(cache.levels(f), [[0, 1], [255, 0]])
    assert cache.hist(f)[[0, 1, 255]].tolist() == [2, 1, 1]
    np.testing.assert_array_equal(cache.centred(a), [[-1.5, -.5], [.5, 1.5]])
    assert cache.sumsq(a) == 5.0 and cache.sumsq(b) == 12.0
    # computed once: the same object comes back
    assert cache.centred(a) is cache.centred(a)
    assert cache.levels(f) is cache.levels(f)
    # an array that is not one of the pair's images is never cached (a
    # cache of another pair cannot leak into a result)
    other = a.copy()
    assert cache.centred(other) is not cache.centred(other)
    assert FF.entropy(a + 1, cache=cache) == FF.entropy(a + 1)
    # SD, CC and SCD from the cache equal the formulas
    assert FF.standard_deviation(a, cache=cache) == pytest.approx(
        math.sqrt(1.25), abs=0)
    r_af = np.corrcoef(a.ravel(), f.ravel())[0, 1]
    r_bf = np.corrcoef(b.ravel(), f.ravel())[0, 1]
    assert FF.cc(a, b, f, cache=cache) == pytest.approx((r_af + r_bf) / 2,
                                                        rel=1e-14)


def test_pair_cache_is_thread_safe():
    a, b = _rng_img(200, 220, 1), _rng_img(200, 220, 2)
    f = np.round((a + b) / 2)
    cache = FF.FusionPairCache(a, b, f)
    calls = []
    make = FF._levels

    def counting(x):
        calls.append(1)
        return make(x)

    FF._levels = counting
    try:
        out = []
        ths = [threading.Thread(target=lambda: out.append(cache.levels(f)))
               for _ in range(8)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
    finally:
        FF._levels = make
    assert len(calls) == 1 and all(o is out[0] for o in out)
