"""The ivif_zoo preset's torch metrics against the numpy oracle
(``helpers.ivif_zoo_oracle``) on real and synthetic
pairs, against IVIF_ZOO's stored values, and on batches and inputs.

Tolerances: relative 1e-10 (absolute 1e-13 for values that are 0 up to
rounding, e.g. MI with a constant F, Nabf of a mean fusion) for every
float64 metric, except

* CE, float32 like IVIF_ZOO: the same float32 terms, but their mean over
  ``H W`` values is reduced in a thread-dependent order (observed 1e-7
  with 2 threads, 0 with 1): relative 1e-6, ~8 float32 ulp.
* VIF: relative 1e-8. Its local variances ``G(x^2) - G(x)^2`` on
  near-flat regions keep ~2 digits, so an ulp of a filter output moves a
  pixel's term by ~1e-5 (as ``test_fusion_metrics.VIF_REL``).
* MS_SSIM: relative 1e-9. On saturated constant images (255) the local
  variance ``G(x^2) - G(x)^2`` is rounding noise of 255^2 (~1e-11) against
  ``C2 = 9e-4``, and the two filters sum their taps in different orders:
  measured 1.0e-10.
"""
import glob
import json
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest
import torch
# the data of the numpy module's tests against IVIF_ZOO's own values
from test_fusion_ivif_zoo import FUSION, REFERENCE

from helpers import ivif_zoo_oracle as ivz
from mmfusenas.evaluation.functional import fusion as FF
from mmfusenas.evaluation.functional.fusion import PRESET_FNS

P = PRESET_FNS['ivif_zoo']

pytestmark = pytest.mark.usefixtures('one_thread')

#: metric -> function name after ``ivz_`` (the same in both modules)
FNS = dict(
    zip(ivz.IVIF_ZOO_METRICS,
        ('cross_entropy nmi qncie tsallis_entropy edge_intensity qy qcb '
         'entropy mi spatial_frequency average_gradient standard_deviation '
         'cc scd vif mse psnr qabf nabf ssim ms_ssim').split()))
NO_REFERENCE = ('EN', 'EI', 'SF', 'AG', 'SD')
#: IVIF_ZOO's 21 and Qy with the paper's window (the other presets' Qy)
CASES = [(m, {}) for m in ivz.IVIF_ZOO_METRICS]
CASES.append(('Qy', dict(window='gaussian')))
REL = dict(CE=1e-6, VIF=1e-8, MS_SSIM=1e-9)
ATOL = 1e-13


def _call(module, metric, a, b, f, **kw):
    if module is FF:        # what the preset binds; Qy with another window
        return FF.qy(a, b, f, **kw) if kw else P[metric](a, b, f)
    fn = getattr(module, 'ivz_' + FNS[metric])
    return fn(f, **kw) if metric in NO_REFERENCE else fn(a, b, f, **kw)


def _numpy(metric, pairs, **kw):
    with warnings.catch_warnings(), np.errstate(all='ignore'):
        warnings.simplefilter('ignore', RuntimeWarning)
        return np.array([_call(ivz, metric, *p, **kw) for p in pairs])


def _batch(pairs):
    return [torch.from_numpy(np.stack(x)) for x in zip(*pairs)]


def _assert_matches_numpy(pairs, cases=CASES):
    """Every metric of the batch of ``pairs`` against the numpy module,
    image by image."""
    a, b, f = _batch(pairs)
    for metric, kw in cases:
        ours = _call(FF, metric, a, b, f, **kw)
        assert ours.dtype == torch.float64 and ours.shape == (len(pairs), )
        np.testing.assert_allclose(
            ours.numpy(),
            _numpy(metric, pairs, **kw),
            rtol=REL.get(metric, 1e-10),
            atol=ATOL,
            err_msg=f'{metric} {kw}')


def _tno(stem):
    """A TNO pair, gray as the ivif_zoo preset reads it, fused by the mean
    and the max (the max fusion makes Nabf non-zero)."""
    a, b = (
        ivz.pil_gray(
            cv2.imread(
                glob.glob(osp.join(FUSION, 'TNO', m, stem + '.*'))[0],
                cv2.IMREAD_COLOR)).astype(np.float64) for m in ('ir', 'vi'))
    return [(a, b, (a + b) / 2), (a, b, np.maximum(a, b))]


@pytest.mark.parametrize(
    'stems', [('01', '02'), ('05', )], ids=['768x576', 'odd-475x575'])
def test_real_pairs_match_numpy(shared_data, stems):
    _assert_matches_numpy([p for s in stems for p in _tno(s)])


def _texture(shape, seed, integer=True):
    x = cv2.GaussianBlur(
        np.random.default_rng(seed).random(shape) * 255, (0, 0), 2)
    return np.round(x) if integer else x


@pytest.mark.parametrize('integer', [True, False], ids=['8-bit', 'float'])
def test_synthetic_pairs_match_numpy(integer):
    shape = (167, 181)  # odd sides, MS_SSIM's minimum
    a, b, c = (_texture(shape, s, integer) for s in (1, 2, 3))
    _assert_matches_numpy([(a, b, (a + b) / 2), (a, b, c)])


def test_degenerate_images_match_numpy():
    """Constant images (NaN where a definition divides by their zero
    range or variance), identical images, saturated levels, PSNR's inf."""
    shape = (165, 170)
    t1, t2 = _texture(shape, 4), _texture(shape, 5)
    c0, c77, c255 = (np.full(shape, v) for v in (0., 77., 255.))
    pairs = [(c77, c77, c77), (t1, t2, c0), (t1, t1, t1), (t1, t1, t2),
             (t1, t2, t1), (c255, c0, c255)]
    _assert_matches_numpy(pairs)
    # a constant source: VIF(A, F) divides rounding noise by rounding noise
    # (A's local variances are the filters' rounding of 77^2 - 77^2), so
    # only its value's presence is compared, not its digits
    _assert_matches_numpy([(c77, t2, t1)], [c for c in CASES if c[0] != 'VIF'])
    a, b, f = _batch([(t1, t1, t1), (c77, c77, c77), (t1, t2, c0)])
    assert torch.isinf(PRESET_FNS['ivif_zoo']['PSNR'](a, b, f)[:2]).all()
    assert torch.isnan(P['QNCIE'](a, b, f)[1:]).all()
    assert torch.isnan(P['Qcb'](a, b, f)[1:]).all()


def test_batch_equals_single_images():
    """A batch of 2 gives what two batches of 1 give (up to the order of
    the per-image sums; CE to float32 rounding)."""
    shape = (170, 175)
    pairs = [(_texture(shape, 6), _texture(shape, 7), _texture(shape, 8)),
             (_texture(shape, 9), _texture(shape, 10,
                                           False), _texture(shape, 11))]
    batch = _batch(pairs)
    for metric, kw in CASES:
        both = _call(FF, metric, *batch, **kw)
        one = torch.cat([
            _call(FF, metric, *[x[i:i + 1] for x in batch], **kw)
            for i in range(2)
        ])
        torch.testing.assert_close(
            both, one, rtol=REL.get(metric, 1e-13), atol=ATOL, msg=metric)


def test_inputs():
    """uint8 and (N, 1, H, W) inputs, inputs that require grad, and the
    errors."""
    shape = (170, 176)
    a, b, f = (
        torch.from_numpy(_texture(shape, s)).to(torch.uint8)[None]
        for s in (12, 13, 14))
    ref = P['SSIM'](a.double(), b.double(), f.double())
    assert torch.equal(P['SSIM'](a, b, f), ref)
    assert torch.equal(P['SSIM'](a[:, None], b[:, None], f[:, None]), ref)
    g = f.double().requires_grad_()
    assert torch.equal(P['SSIM'](a, b, g), ref)
    assert torch.equal(P['EN'](g, g, g), P['EN'](f, f, f))
    with pytest.raises(ValueError, match='shape mismatch'):
        P['NMI'](a, b, f[:, :-1])
    # a 2-D tensor is one image
    assert P['EN'](f[0], f[0], f[0]) == P['EN'](f[:1], f[:1], f[:1]).item()
    with pytest.raises(ValueError, match='above 160 pixels'):
        P['MS_SSIM'](a[:, :150], b[:, :150], f[:, :150])
    with pytest.raises(ValueError, match="'ivif_zoo' or 'gaussian'"):
        FF.qy(a, b, f, window='box')


def test_values_agree_with_ivif_zoo_on_real_pairs():
    """IVIF_ZOO's own evaluation_one on TNO and RoadScene pairs (the values
    and tolerances of ``test_fusion_ivif_zoo``), each dataset's two fusion
    rules as one batch."""
    if not osp.isdir(FUSION):
        pytest.skip(f'shared data not found: {FUSION}')
    with open(REFERENCE) as fh:
        record = json.load(fh)['values']
    assert len(record) == 4
    groups = {}
    for key in record:
        dataset, stem, rule = key.split('/')
        ir, vi = (
            glob.glob(osp.join(FUSION, dataset, m, stem + '.*'))[0]
            for m in ('ir', 'vi'))
        a = cv2.imread(ir, cv2.IMREAD_COLOR).astype(np.float64)
        b = cv2.imread(vi, cv2.IMREAD_COLOR).astype(np.float64)
        f = np.floor((a + b) / 2 + 0.5) if rule == 'mean' else \
            np.maximum(a, b)
        gray = [ivz.pil_gray(x.astype(np.uint8)) for x in (a, b, f)]
        groups.setdefault((dataset, stem), []).append((key, gray))
    for items in groups.values():
        a, b, f = (
            torch.from_numpy(np.stack(x)) for x in zip(*[g for _, g in items]))
        for name in ivz.IVIF_ZOO_METRICS:
            ours = _call(FF, name, a, b, f)
            for i, (key, _) in enumerate(items):
                value = record[key][name]
                tol = dict(abs=1e-4) if abs(value) < 0.1 else dict(rel=1e-3)
                assert float(ours[i]) == pytest.approx(value,
                                                       **tol), (key, name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu():
    shape = (170, 180)
    a, b, f = _batch([(_texture(shape, 16), _texture(shape, 17),
                       _texture(shape, 18, False))])
    for metric, kw in CASES:
        cpu = _call(FF, metric, a, b, f, **kw)
        gpu = _call(FF, metric, a.cuda(), b.cuda(), f.cuda(), **kw)
        assert gpu.device.type == 'cuda'
        torch.testing.assert_close(
            gpu.cpu(), cpu, rtol=REL.get(metric, 1e-10), atol=ATOL, msg=metric)
