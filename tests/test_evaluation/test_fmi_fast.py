"""The O(l) Fast-FMI implementation against a straightforward reference.

The reference below is the previous implementation: the full l x l joint
pdf of Nelsen's Frechet-copula mixture per window pair, vectorised over
windows only. It is kept here so that the optimised path (merge of the two
cdfs, reflected cdf for the W copula, entropy from the path cells) is checked
window by window, including flat, identical, delta and negatively correlated
windows, several window sizes and the queue of windows that differ.

Every check runs on both implementations: the numpy path and the compiled
numba path (used by default when numba is importable; skipped, with the
reason, when it is not). The two must agree to 1e-12 relative per image
score (``test_numba_matches_numpy``); the numba kernels serve every window
size.
"""
import importlib
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmfusenas.evaluation.functional import fusion as FF
from mmfusenas.evaluation.functional.fmi import fmi, fmi_features

# the package re-exports the function ``fmi``, which hides the module name
fmi_mod = importlib.import_module('mmfusenas.evaluation.functional.fmi')

try:
    import numba  # noqa: F401
    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False
NO_NUMBA = 'numba is not installed: only the numpy FMI path is tested'
FEATURES = ('none', 'gradient', 'edge', 'dct', 'wavelet')


def _numba_kernels():
    kern = fmi_mod._numba_kernels()
    # numba importable but unusable is a failure, not a skip
    assert kern is not None, 'numba is installed but the FMI kernels ' \
        'could not be compiled (see the warning)'
    return kern


@pytest.fixture(params=['numpy', 'numba'])
def path(request, monkeypatch):
    """Run the test on the numpy path and on the numba path."""
    use = request.param == 'numba'
    if use:
        if not HAVE_NUMBA:
            pytest.skip(NO_NUMBA)
        _numba_kernels()
    monkeypatch.setattr(fmi_mod, 'USE_NUMBA', use)
    return request.param


# ------------------------------------------------------------ reference
def _ref_windows(x, w):
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


def _ref_fmi(a, b, f, feature='none', w=3):
    aw, bw, fw = (_ref_windows(fmi_features(np.asarray(x, np.float64),
                                            feature), w) for x in (a, b, f))
    eq_a = (aw == fw).all(0)
    fmi_a = np.where(eq_a, 1.0, _ref_pair_fmi(aw, fw))
    # reference quirk: F normalised in place when the A window differs
    eq_b = (bw == np.where(eq_a, fw, _ref_normalise(fw))).all(0)
    fmi_b = np.where(eq_b, 1.0, _ref_pair_fmi(bw, fw))
    return float(((fmi_a + fmi_b) / 2).mean())


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


@pytest.mark.parametrize('w', [2, 3, 5])
def test_window_fmi_matches_reference(path, w):
    l = w * w
    xw, fw = _window_stacks(l, 150, seed=w)
    got = fmi_mod._window_fmi(xw, fw)
    ref = _ref_pair_fmi(xw, fw)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_window_fmi_special_values(path):
    l = 9
    x = np.arange(l, dtype=np.float64)[:, None]
    # identical windows are not FMI 1 without the shortcut, but finite
    assert np.isfinite(fmi_mod._window_fmi(x, x)).all()
    # a flat window gives c = 0, k = 0 and exactly MI = 0
    assert fmi_mod._window_fmi(np.full((l, 1), 3.0), x)[0] == 0.0
    assert fmi_mod._window_fmi(x, np.full((l, 1), 3.0))[0] == 0.0
    # reversed windows: negative correlation
    assert fmi_mod._window_fmi(x, x[::-1])[0] == pytest.approx(
        _ref_pair_fmi(x, x[::-1])[0], rel=1e-12)


def _images(seed, h=23, w=31):
    rng = np.random.default_rng(seed)
    a = np.round(cv2.GaussianBlur(rng.uniform(0, 255, (h, w)), (5, 5), 1))
    b = np.round(rng.uniform(0, 255, (h, w)))
    a[:, :w // 3] = 40                     # flat area
    return a, b


@pytest.mark.parametrize('feature', FEATURES)
def test_fmi_matches_reference(path, feature):
    a, b = _images(1)
    cases = [np.round((a + b) / 2), 255 - a, a.copy()]
    cases[2][::4] = b[::4]                 # mostly identical windows (A)
    for f in cases:
        for w in (1, 3, 5):
            ref = _ref_fmi(a, b, f, feature, w)
            assert fmi(a, b, f, feature, w) == pytest.approx(
                ref, rel=1e-10, abs=1e-13), (feature, w)


@pytest.mark.parametrize('block', [1, 40, 97])
def test_fmi_blocks_and_queue(path, monkeypatch, block):
    """Partial blocks and the queue of differing windows (flushed when
    full and at the end) give the same mean."""
    if path == 'numpy':
        monkeypatch.setattr(fmi_mod, '_BLOCK', block)
    else:       # chunks of windows, bands of 1 / 5 / all rows
        monkeypatch.setattr(fmi_mod, '_NB_CHUNK', block)
        monkeypatch.setattr(fmi_mod, '_NB_BAND', {1: 1, 40: 5}.get(block,
                                                                    99))
    a, b = _images(2, 19, 27)
    f = a.copy()
    f[::5] = b[::5]                        # A == F on most windows
    for feature in ('none', 'edge'):
        ref = _ref_fmi(a, b, f, feature)
        assert fmi(a, b, f, feature) == pytest.approx(ref, rel=1e-10)
    f = np.round((a + b) / 2)
    assert fmi(a, b, f) == pytest.approx(_ref_fmi(a, b, f), rel=1e-10)


def test_identical_images_exactly_one(path):
    a, _ = _images(3)
    for feature in ('none', 'gradient', 'edge', 'dct', 'wavelet'):
        for w in (1, 3):
            assert fmi(a, a, a, feature, w) == 1.0


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


def test_tno_values_unchanged(path, shared_data):
    d = osp.join(shared_data, 'fusion', 'TNO')
    a = FF.cv2_bgr2gray(cv2.imread(osp.join(d, 'ir', '01.png')))
    b = FF.cv2_bgr2gray(cv2.imread(osp.join(d, 'vi', '01.png')))
    f = np.round((a + b) / 2)
    np.testing.assert_array_equal(fmi_features(a, 'edge'), _ref_edge(a))
    for feature, v in TNO01_FMI.items():
        assert fmi(a, b, f, feature) == pytest.approx(v, rel=1e-12), feature


# ------------------------------------------------------------ numba vs numpy
def _tno(shared_data, stem='01'):
    d = osp.join(shared_data, 'fusion', 'TNO')
    a = FF.cv2_bgr2gray(cv2.imread(osp.join(d, 'ir', stem + '.png')))
    b = FF.cv2_bgr2gray(cv2.imread(osp.join(d, 'vi', stem + '.png')))
    return a, b, np.round((a + b) / 2)


@pytest.mark.skipif(not HAVE_NUMBA, reason=NO_NUMBA)
def test_numba_matches_numpy(monkeypatch, shared_data):
    """The compiled path gives the numpy path's values: per image score to
    1e-12, with exact 0s where the numpy path has them. Per window they may
    differ by more than round-off where FMI is ill-conditioned (near-equal
    windows, k ~ 1: log2 and the moment sums may differ in the last bit),
    so windows are held to 1e-11, well inside the reference's 1e-10."""
    _numba_kernels()
    for w in (2, 3, 5):
        xw, fw = _window_stacks(w * w, 150, seed=10 + w)
        got = fmi_mod._window_fmi(xw, fw, use_numba=True)
        ref = fmi_mod._window_fmi(xw, fw, use_numba=False)
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-15)
        np.testing.assert_array_equal(got == 0, ref == 0)
    # a 128 x 160 crop of a TNO pair: real image content at a size the
    # numpy path computes in a fraction of a second per call
    a, b, f = (x[:128, :160] for x in _tno(shared_data))
    for feature in FEATURES:
        for w in (3, 5):
            monkeypatch.setattr(fmi_mod, 'USE_NUMBA', False)
            ref = fmi(a, b, f, feature, w)
            monkeypatch.setattr(fmi_mod, 'USE_NUMBA', True)
            got = fmi(a, b, f, feature, w)
            assert got == pytest.approx(ref, rel=1e-12, abs=0), (feature, w)


@pytest.mark.skipif(not HAVE_NUMBA, reason=NO_NUMBA)
def test_numba_threads_do_not_change_the_result(monkeypatch):
    _numba_kernels()
    monkeypatch.setattr(fmi_mod, 'USE_NUMBA', True)
    monkeypatch.setattr(fmi_mod, '_NB_BAND', 4)
    a, b = _images(5, 40, 50)
    f = np.round((a + b) / 2)
    vals = []
    for n in (1, 2, 3):
        monkeypatch.setattr(fmi_mod, 'NUMBA_THREADS', n)
        vals.append(fmi(a, b, f, 'gradient'))
    assert vals[0] == vals[1] == vals[2]


def test_suite_parallel_matches_sequential(shared_data):
    """compute_fusion_metrics gives the same values with the FMI variants on
    the background thread as one metric after the other."""
    a, b, f = _tno(shared_data)
    a, b, f = (x[100:300, 200:420] for x in (a, b, f))
    for preset in FF.FUSION_PRESETS:
        par = FF.compute_fusion_metrics(a, b, f, preset, 'all',
                                        parallel=True)
        seq = FF.compute_fusion_metrics(a, b, f, preset, 'all',
                                        parallel=False)
        assert list(par) == list(FF.preset_metric_names(preset))
        assert par == seq, preset


@pytest.fixture(scope='module')
def fresh_process_switches():
    """What a new interpreter sees with ``USE_NUMBA = False`` (FMI and the
    other metrics' kernels) and ``fusion.MALLOC_TUNING = False`` before the first metric: one process for both switches (an interpreter start and the package
    import are most of the cost)."""
    code = (
        'import importlib, json, sys; import numpy as np; '
        'fmi = importlib.import_module('
        '"mmfusenas.evaluation.functional.fmi"); fmi.USE_NUMBA = False; '
        'importlib.import_module("mmfusenas.evaluation.functional.'
        'fusion_kernels").USE_NUMBA = False; '
        'r = dict(kernels=fmi._kernels() is None, '
        'numba_after_fmi="numba" in sys.modules); '
        'm = importlib.import_module("mmfusenas.evaluation.functional.fusion");'
        ' m.MALLOC_TUNING = False; '
        'm.entropy(np.zeros((4, 4))); m.cc(*[np.eye(4)] * 3); '
        'r["malloc_tuned"] = bool(m._MALLOC_TUNED); '
        'r["numba_at_end"] = "numba" in sys.modules; print(json.dumps(r))')
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    out = subprocess.run([sys.executable, '-c', code], cwd=root,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_malloc_tuning_switch(fresh_process_switches):
    assert fresh_process_switches['malloc_tuned'] is False


def test_numba_switch_forces_numpy(fresh_process_switches):
    r = fresh_process_switches
    assert r['kernels'] is True
    # neither the FMI nor the other metrics' numpy chains import numba
    assert r['numba_after_fmi'] is False and r['numba_at_end'] is False
