"""The FMI kernel against a straightforward reference.

The reference below is the textbook form of ``fmi.m``: the full l x l joint
pdf of Nelsen's Frechet-copula mixture per window pair, vectorised over
windows only. The kernel (merge path of the two cdfs, reflected cdf for the
W copula, joint entropy from the path cells) is checked against it window
by window (one-window images), including flat, identical, delta and
negatively correlated windows, and on small images for every feature and
several window sizes.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest

from mmfusenas.evaluation.fusion_presets import cv2_bgr2gray
from mmfusenas.evaluation.functional import fmi_kernel as fmi_mod
from mmfusenas.evaluation.functional.fmi_kernel import fmi, fmi_features

FEATURES = ('none', 'gradient', 'edge', 'dct', 'wavelet')
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


# ------------------------------------------------------------ reference
def _ref_windows(x, w):
    """``(w * w, n_windows)`` stack, each window column-major."""
    h, wd = x.shape
    out = np.empty((w * w, (h - w + 1) * (wd - w + 1)))
    i = 0
    for dc in range(w):
        for dr in range(w):
            out[i] = x[dr:h - w + 1 + dr, dc:wd - w + 1 + dc].ravel()
            i += 1
    return out


def _ref_normalise(win):
    lo = win.min(0)
    rng = win.max(0) - lo
    flat = rng == 0
    out = (win - lo) / np.where(flat, 1.0, rng)
    out[:, flat] = 1.0
    return out


def _ref_pdf_stats(norm):
    pdf = norm / norm.sum(0)
    cdf = np.cumsum(pdf, 0)
    t = pdf - pdf.mean(0)
    t[np.abs(t) < 1e-12] = 0.0
    idx = np.arange(1, pdf.shape[0] + 1, dtype=np.float64)
    e1, e2 = idx @ pdf, (idx * idx) @ pdf
    sd = np.sqrt(np.maximum(e2 - e1 * e1, 0.0))
    ent = -(pdf * np.log2(np.maximum(pdf, 1e-300))).sum(0)
    return pdf, cdf, t, sd, ent


def _ref_joint_entropy(xpdf, xcdf, xsd, fpdf, fcdf, fsd, c, positive):
    F, X = fcdf[:, None, :], xcdf[None, :, :]
    C = np.minimum(F, X) if positive else np.maximum(F + X - 1.0, 0.0)
    cov = C.sum((0, 1)) - fcdf.sum(0) * xcdf.sum(0)
    sds = fsd * xsd
    with np.errstate(divide='ignore', invalid='ignore'):
        k = c * sds / cov
    k[(sds == 0) | (c == 0) | ~np.isfinite(k)] = 0.0
    dC = C.copy()
    dC[1:] -= C[:-1]
    dC[:, 1:] -= dC[:, :-1].copy()
    jp = k * dC + (1 - k) * (fpdf[:, None, :] * xpdf[None, :, :])
    return -(jp * np.log2(np.maximum(np.abs(jp), 1e-300))).sum((0, 1))


def _ref_pair_fmi(xw, fw):
    """FMI_XF of every column pair (no equal-window shortcut)."""
    xpdf, xcdf, xt, xsd, xent = _ref_pdf_stats(_ref_normalise(xw))
    fpdf, fcdf, ft, fsd, fent = _ref_pdf_stats(_ref_normalise(fw))
    num = (xt * ft).sum(0)
    den = np.sqrt((xt * xt).sum(0) * (ft * ft).sum(0))
    with np.errstate(divide='ignore', invalid='ignore'):
        c = np.where((np.abs(num) < 1e-12) | (den == 0), 0.0, num / den)
    jent = np.empty(xw.shape[1])
    for positive, r in ((True, c >= 0), (False, c < 0)):
        if r.any():
            jent[r] = _ref_joint_entropy(xpdf[:, r], xcdf[:, r], xsd[r],
                                         fpdf[:, r], fcdf[:, r], fsd[r],
                                         c[r], positive)
    mi = xent + fent - jent
    with np.errstate(divide='ignore', invalid='ignore'):
        out = 2 * mi / (xent + fent)
    out[mi == 0] = 0.0
    return out


def _ref_fmi_windows(aw, bw, fw):
    """``(FMI_AF + FMI_BF) / 2`` of every column of the window stacks."""
    eq_a = (aw == fw).all(0)
    fmi_a = np.where(eq_a, 1.0, _ref_pair_fmi(aw, fw))
    # fmi.m quirk: F normalised in place when the A window differs
    eq_b = (bw == np.where(eq_a, fw, _ref_normalise(fw))).all(0)
    fmi_b = np.where(eq_b, 1.0, _ref_pair_fmi(bw, fw))
    return (fmi_a + fmi_b) / 2


def _ref_fmi(a, b, f, feature='none', w=3):
    return float(_ref_fmi_windows(*(_ref_windows(
        fmi_features(np.asarray(x, np.float64), feature), w)
                                    for x in (a, b, f))).mean())


def _ref_edge(x):
    """The previous ``_matlab_edge_sobel`` (concatenated neighbours)."""
    op = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float64) / 8
    bx = cv2.filter2D(x, cv2.CV_64F, op.T, borderType=cv2.BORDER_REPLICATE)
    by = cv2.filter2D(x, cv2.CV_64F, op, borderType=cv2.BORDER_REPLICATE)
    b = bx * bx + by * by
    cutoff = 4 * b.mean()
    bx, by = np.abs(bx), np.abs(by)
    left = np.concatenate([b[:, :1], b[:, :-1]], 1)
    right = np.concatenate([b[:, 1:], b[:, -1:]], 1)
    up = np.concatenate([b[:1], b[:-1]], 0)
    down = np.concatenate([b[1:], b[-1:]], 0)
    tol = np.finfo(np.float64).eps * 100
    e = (b > cutoff) & (((bx >= by - tol) & (b >= left) & (b > right)) |
                        ((by >= bx - tol) & (b >= up) & (b > down)))
    return e.astype(np.float64)


# ------------------------------------------------------------ windows
def _window_stacks(l, n, seed):
    """(x, f) stacks of raw windows of many kinds, ``n`` of each."""
    rng = np.random.default_rng(seed)
    xs, fs = [], []

    def add(x, f):
        xs.append(x)
        fs.append(f)

    r = rng.random((l, n)) * 255
    add(r, rng.random((l, n)) * 255)                       # random
    add(np.round(r / 40), np.round(rng.random((l, n)) * 6))  # many ties
    add(r, r + rng.normal(0, 5, (l, n)))                   # similar
    add(r, 255 - r + rng.normal(0, 5, (l, n)))             # c < 0
    add(r, r[::-1])                                        # reversed
    add(r, r.copy())                                       # identical
    add(r, np.round(r) * 3 + 7)                            # affine
    add(_ref_normalise(r), r)                              # x = normalised f
    flat = np.full((l, n), 7.0)
    add(flat, r)                                           # flat x
    add(r, flat)                                           # flat f
    add(flat, flat * 2)                                    # both flat
    delta = np.zeros((l, n))
    delta[rng.integers(0, l, n), np.arange(n)] = 5.0
    add(delta, r)                                          # delta x
    add(r, delta)                                          # delta f
    add(delta, delta[::-1])                                # two deltas
    two = np.where(rng.random((l, n)) < 0.5, 0.0, 3.0)
    add(two, np.where(rng.random((l, n)) < 0.3, 1.0, 2.0))  # two-valued
    # a value equal to the window mean (centred pdf == 0 up to round-off)
    mean_hit = np.round(rng.random((l, n)) * 10)
    mean_hit[0] = mean_hit[1:].mean(0)
    add(mean_hit, r)
    tiny = 1e5 + rng.random((l, n)) * 1e-6                 # tiny range
    add(tiny, r)
    return np.concatenate(xs, 1), np.concatenate(fs, 1)


@pytest.mark.parametrize('w', [3, 5, 7])
def test_windows_match_reference(w):
    """Window by window: ``w x w`` images hold one window each. B is the
    source window of another kind, so both sources and the B-window quirk
    (B compared with the normalised F) are covered."""
    xw, fw = _window_stacks(w * w, 12, seed=w)
    aw, bw = xw, np.roll(xw, 12, axis=1)
    ref = _ref_fmi_windows(aw, bw, fw)
    got = np.array([
        fmi(*(s[:, p].reshape(w, w, order='F') for s in (aw, bw, fw)),
            window=w) for p in range(xw.shape[1])
    ])
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    # flat, both-flat and delta-with-delta windows: MI = 0 exactly
    assert (got[ref == 0] == 0).all()


def test_hand_computable_values():
    rng = np.random.default_rng(0)
    f = rng.uniform(0, 255, (9, 11))
    flat = np.full_like(f, 7.0)
    for w in (1, 3, 5):
        assert fmi(f, f, f, window=w) == 1.0
        # a flat source window: c = 0, k = 0, MI = 0
        assert fmi(flat, flat, f, window=w) == 0.0
    # a source whose windows are an increasing affine map of F's: the same
    # pdfs, k = 1, p = Delta C on the diagonal, MI = H, FMI = 1
    for w in (3, 5):
        assert fmi(2 * f + 3, 2 * f + 3, f, window=w) == pytest.approx(
            1.0, abs=1e-12)


def test_b_window_quirk():
    """fmi.m normalises the F window in place when the A window differs from
    it, and then compares the B window with the normalised one."""
    rng = np.random.default_rng(1)
    f = rng.uniform(2, 255, (5, 6))
    a, ones = f + 1, np.ones_like(f)
    # w = 1: two different pixels have FMI 0; the normalised F pixel is 1
    assert fmi(a, f, f, window=1) == 0.0
    assert fmi(a, ones, f, window=1) == 0.5
    assert fmi(f, ones, f, window=1) == 0.5
    # one 3x3 window, B equal to the normalised F window: B scores 1
    f, a = f[:3, :3], rng.uniform(0, 255, (3, 3))
    fn = (f - f.min()) / (f.max() - f.min())
    ref_a = _ref_pair_fmi(a.ravel('F')[:, None], f.ravel('F')[:, None])[0]
    assert fmi(a, fn, f) == pytest.approx((ref_a + 1) / 2, rel=1e-12)
    for b in (fn, f):
        assert fmi(a, b, f) == pytest.approx(_ref_fmi(a, b, f), rel=1e-12)


def _images(seed, h=23, w=31):
    rng = np.random.default_rng(seed)
    a = np.round(cv2.GaussianBlur(rng.uniform(0, 255, (h, w)), (5, 5), 1))
    b = np.round(rng.uniform(0, 255, (h, w)))
    a[:, :w // 3] = 40                     # flat area
    return a, b


@pytest.mark.parametrize('feature', FEATURES)
def test_fmi_matches_reference(feature):
    a, b = _images(1)
    cases = [np.round((a + b) / 2), 255 - a, a.copy()]
    cases[2][::4] = b[::4]                 # mostly identical windows (A)
    for f in cases:
        for w in (1, 3, 5):
            ref = _ref_fmi(a, b, f, feature, w)
            assert fmi(a, b, f, feature, w) == pytest.approx(
                ref, rel=1e-12, abs=1e-15), (feature, w)


def test_identical_images_exactly_one():
    a, _ = _images(3)
    for feature in FEATURES:
        for w in (1, 3):
            assert fmi(a, a, a, feature, w) == 1.0


def test_argument_errors():
    a, b = _images(4, 8, 9)
    with pytest.raises(ValueError, match='positive odd'):
        fmi(a, b, a, window=2)
    with pytest.raises(ValueError, match='at least 9x9'):
        fmi(a, b, a, window=9)
    with pytest.raises(ValueError, match='feature'):
        fmi(a, b, a, 'sobel')
    with pytest.raises(ValueError, match='shape'):
        fmi(a, b[:, :-1], a)


def test_edge_map_matches_reference():
    rng = np.random.default_rng(4)
    for shape in ((1, 7), (7, 1), (2, 2), (5, 6), (33, 29)):
        x = np.round(rng.uniform(0, 9, shape))
        np.testing.assert_array_equal(fmi_features(x, 'edge'), _ref_edge(x))


# values of the previous implementation on TNO 01, F = round((A + B) / 2)
TNO01_FMI = {
    'none': 0.43320282319311904,
    'gradient': 0.4343406854563471,
    'dct': 0.41372421501475926,
    'wavelet': 0.41306296333750886,
    'edge': 0.886868661643451,
}


def test_tno_values_unchanged(shared_data):
    d = osp.join(shared_data, 'fusion', 'TNO')
    a = cv2_bgr2gray(cv2.imread(osp.join(d, 'ir', '01.png')))
    b = cv2_bgr2gray(cv2.imread(osp.join(d, 'vi', '01.png')))
    f = np.round((a + b) / 2)
    np.testing.assert_array_equal(fmi_features(a, 'edge'), _ref_edge(a))
    for feature, v in TNO01_FMI.items():
        assert fmi(a, b, f, feature) == pytest.approx(v, rel=1e-12), feature


def test_background_thread_gives_the_same_value():
    """compute_fusion_metrics runs FMI on a background thread."""
    a, b = _images(5, 30, 40)
    f = np.round((a + b) / 2)
    out = []
    t = threading.Thread(target=lambda: out.append(fmi(a, b, f, 'dct')))
    t.start()
    t.join()
    assert out == [fmi(a, b, f, 'dct')]


def test_lazy_numba_and_thread_count():
    """A fresh process: importing the metric does not import numba, and 1
    or 2 numba threads give exactly the same value (per-row partial sums,
    added in a fixed order)."""
    code = (
        'import json, sys; import numpy as np; '
        'import mmfusenas.evaluation.functional.fmi_kernel as m; '
        'r = {"numba_on_import": "numba" in sys.modules}; '
        'import numba; rng = np.random.default_rng(6); '
        'a, b = rng.uniform(0, 255, (2, 70, 40)); f = (a + b) / 2; '
        'v = []\n'
        'for n in (1, 2):\n'
        '    numba.set_num_threads(n); v.append(m.fmi(a, b, f, "gradient"))\n'
        'r["values"] = v; print(json.dumps(r))')
    env = dict(os.environ, NUMBA_NUM_THREADS='2')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    assert r['numba_on_import'] is False
    assert r['values'][0] == r['values'][1]


def test_missing_numba_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, 'numba', None)     # import fails
    with pytest.raises(ImportError, match='package numba'):
        fmi_mod._kernel.__wrapped__()
