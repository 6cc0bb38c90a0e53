"""The batched torch fusion metrics against their oracles: the stored values,
the cddfuse evaluator, the numpy implementation
(``mmfusenas.testing.fusion_oracle``) and hand-computed cases; batches,
devices and ``FusionMetric``."""
import json
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.evaluation.functional import fusion as FF
from mmfusenas.testing import fusion_oracle
from helpers.numerics import reduction_atol
from mmfusenas.evaluation.fusion_presets import (FUSION_METRICS,
                                                 FUSION_PRESETS)
from mmfusenas.evaluation.metrics import FusionMetric
from mmfusenas.structures import FusionDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOLDENS = osp.join(ROOT, 'tests', 'data', 'fusion_metrics_goldens.json')
NON_FMI = [m for m in FUSION_METRICS if not m.startswith('FMI')]
#: the presets of the numpy oracle (``ivif_zoo`` has its own oracles)
ORACLE_PRESETS = ('cddfuse', 'tang', 'vifb')
#: VIF's relative tolerance between filter implementations (summation
#: order): on near-flat regions the local variance ``G(x^2) - G(x)^2`` of a
#: few pixels is ~1e-9 against ``G(x^2)`` ~ 4e4 and keeps ~2 digits, so
#: those pixels' terms move by ~1e-5 with a few ulp of the filter outputs;
#: F rounded down moves VIF by 3e-3.
VIF_REL = 1e-8


def _tno(shared_data, stem, preset):
    d = osp.join(shared_data, 'fusion', 'TNO')
    gray = FUSION_PRESETS[preset]['gray']
    a = gray(cv2.imread(osp.join(d, 'ir', stem)))
    b = gray(cv2.imread(osp.join(d, 'vi', stem)))
    return a, b, np.round((a + b) / 2)


def _pairs(shared_data, preset, n_tno=2, n_road=2, crop=(256, 320)):
    """Real pairs (cropped to ``crop``) and a fused stand-in that is
    neither source nor their mean."""
    gray = FUSION_PRESETS[preset]['gray']
    out = []
    for name, n in (('TNO', n_tno), ('RoadScene', n_road)):
        d = osp.join(shared_data, 'fusion', name)
        for stem in sorted(os.listdir(osp.join(d, 'ir')))[:n]:
            a = gray(cv2.imread(osp.join(d, 'ir', stem)))[:crop[0], :crop[1]]
            b = gray(cv2.imread(osp.join(d, 'vi', stem)))[:crop[0], :crop[1]]
            f = np.clip(np.round(0.6 * a + 0.4 * b + 0.1 * (a - b)), 0, 255)
            out.append((a, b, f))
    return out


def _stack(pairs, device='cpu'):
    return [torch.from_numpy(np.stack(x)).to(device) for x in zip(*pairs)]


@pytest.mark.golden
def test_values_equal_the_stored_values(shared_data):
    """The stored values (tests/data), within float64 eps x pixels
    relative (sums over the image whose blocking depends on the CPU), VIF
    within :data:`VIF_REL`; an F rounded down or shifted by a pixel moves
    every metric by > 1e4 x the tolerance."""
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
    import mmfusenas.testing.reference_fusion_evaluator as ref

    # a 288x384 crop: the reference VIF alone takes ~3 s on a full pair
    a, b, f = (x[100:388, 200:584]
               for x in _tno(shared_data, '01.png', 'cddfuse'))
    ours = FF.compute_fusion_metrics(a, b, f, 'cddfuse')
    for m, v in ours.items():
        tol = 1e-10 if m == 'VIF' else 1e-12
        assert v == pytest.approx(float(ref.FUNCS[m](a, b, f)), rel=0,
                                  abs=tol), m


@pytest.mark.parametrize('preset', ORACLE_PRESETS)
def test_batches_match_the_numpy_oracle_on_real_pairs(shared_data, preset):
    pairs = _pairs(shared_data, preset)
    got = FF.compute_fusion_metrics(*_stack(pairs), preset, NON_FMI)
    assert list(got) == NON_FMI
    for i, pair in enumerate(pairs):
        ref = fusion_oracle.oracle_metrics(*pair, preset, NON_FMI)
        for m in NON_FMI:
            assert got[m].dtype == torch.float64
            assert got[m].shape == (len(pairs), )
            assert got[m][i].item() == pytest.approx(
                ref[m], rel=1e-9, abs=1e-12), (preset, m, i)


def test_hand_computed_values():
    # two grey levels in equal parts: EN = 1 bit, SD = 50, PSNR peak 200
    f = torch.zeros(1, 4, 4, dtype=torch.float64)
    f[:, :, 2:] = 100.0
    assert FF.entropy(f).item() == pytest.approx(1.0, abs=1e-15)
    assert FF.standard_deviation(f).item() == pytest.approx(50.0, abs=1e-12)
    # SF: horizontal differences 100 on 4 of 12, vertical all 0
    assert FF.spatial_frequency(f).item() == pytest.approx(
        math.sqrt(100.0**2 * 4 / 12), rel=1e-15)
    # identical images: MI(x, x) = H(x), SSIM = 1 per source
    x = torch.arange(64, dtype=torch.float64).view(1, 8, 8) * 4
    assert FF.mutual_information(x, x, base=2).item() == pytest.approx(6.0)
    assert FF.fusion_ssim(x, x, x, 'skimage', 2.0).item() == pytest.approx(
        2.0, abs=1e-12)
    # PSNR against both sources at +-2 grey levels, peak 255: MSE 4
    g = torch.full((1, 16, 16), 100.0, dtype=torch.float64)
    assert FF.fusion_psnr(g + 2, g - 2, g, peak='255').item() == \
        pytest.approx(10 * math.log10(255.0**2 / 4), rel=1e-15)


def test_average_gradient_equals_numpy_gradient():
    rng = np.random.default_rng(5)
    for shape in ((2, 2), (2, 7), (9, 3), (31, 40)):
        x = rng.uniform(0, 255, shape)
        gy, gx = np.gradient(x)
        s = np.sqrt((gx * gx + gy * gy) / 2.0).sum()
        h, w = shape
        assert FF.average_gradient(x) == pytest.approx(s / x.size,
                                                       rel=1e-14)
        assert FF.average_gradient(x, 'm1n1') == pytest.approx(
            s / ((h - 1) * (w - 1)), rel=1e-14)


def test_vif_skips_flat_and_anticorrelated_pixels():
    """VIF(x, x) = 1; a flat reference gives the cddfuse rule's 1; a
    negated image (negative covariance everywhere) keeps nothing of the
    reference (0). (The reference's gain ``s12 / (s1 + 1e-10)`` keeps
    VIF(x, x) ~1e-11 below 1.)"""
    rng = np.random.default_rng(3)
    x = cv2.GaussianBlur(rng.uniform(0, 255, (64, 72)), (5, 5), 1.0)
    assert FF.vif(x, x) == pytest.approx(1.0, rel=1e-9)
    assert FF.vif(np.full((64, 72), 7.0), x) == 1.0
    assert FF.vif(x, 255 - x) == 0.0


def test_batch_rows_are_independent(shared_data):
    pairs = _pairs(shared_data, 'cddfuse', n_tno=1, n_road=2)
    a, b, f = _stack(pairs)
    whole = FF.compute_fusion_metrics(a, b, f, 'cddfuse', 'all')
    for i, pair in enumerate(pairs):
        one = FF.compute_fusion_metrics(*pair, 'cddfuse', 'all')
        for m in FUSION_METRICS:
            assert one[m] == pytest.approx(whole[m][i].item(), rel=1e-12,
                                           abs=1e-15), m


def test_input_errors():
    x = torch.zeros(2, 16, 16)
    with pytest.raises(ValueError, match='shape mismatch'):
        FF.compute_fusion_metrics(x, x, torch.zeros(2, 16, 17))
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        FF.compute_fusion_metrics(x[:, None, None], x, x)
    with pytest.raises(TypeError, match='numpy array or a torch Tensor'):
        FF.compute_fusion_metrics([[0.0]], x, x)
    with pytest.raises(KeyError, match='unknown fusion metric'):
        FF.compute_fusion_metrics(x, x, x, 'cddfuse', ['XYZ'])
    with pytest.raises(TypeError, match='takes the images a, b, f'):
        FF.qabf(x, x)


def _sample(a, b, f, stem):
    ds = FusionDataSample(metainfo=dict(stem=stem))
    ds.sources = torch.from_numpy(np.stack([a, b]) / 255).float()
    ds.pred_fused = torch.from_numpy(f / 255)[None].float()
    return ds


def test_fusion_metric_equals_the_functions(shared_data):
    """Mixed sizes (two stacks), order and stems as given; each row equals
    the metrics of the quantised images one by one."""
    pairs = _pairs(shared_data, 'tang', n_tno=1, n_road=1)
    a, b, f = pairs[1]
    pairs.append((a[:200, :240], b[:200, :240], f[:200, :240]))
    samples = [_sample(*p, f's{i}') for i, p in enumerate(pairs)]
    names = ['EN', 'MI', 'VIF', 'Qabf', 'SSIM', 'PSNR', 'FMI_pixel']
    metric = FusionMetric(preset='tang', metrics=names, device='cpu')
    metric.process(None, [s.to_dict() for s in samples])
    assert [r['stem'] for r in metric.results] == ['s0', 's1', 's2']
    for row, pair in zip(metric.results, pairs):
        ref = FF.compute_fusion_metrics(*pair, 'tang', names)
        assert {m: row[m] for m in names} == pytest.approx(ref, rel=1e-12)
    means = metric.compute_metrics(metric.results)
    assert means['VIF'] == pytest.approx(
        np.mean([r['VIF'] for r in metric.results]), rel=1e-12)


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs a CUDA device')


@needs_cuda
@pytest.mark.parametrize('preset', sorted(FUSION_PRESETS))
def test_cuda_equals_cpu_on_real_pairs(shared_data, preset):
    pairs = _pairs(shared_data, preset)
    cpu = FF.compute_fusion_metrics(*_stack(pairs), preset, 'all')
    gpu = FF.compute_fusion_metrics(*_stack(pairs, 'cuda'), preset, 'all')
    for m, v in gpu.items():
        assert v.device.type == 'cuda', m
        # CE is float32 as IVIF_ZOO computes it: its sums run in another
        # order on CUDA (float32 rounding); every other metric is float64
        rtol = 2e-6 if m == 'CE' else 1e-9
        torch.testing.assert_close(v.cpu(), cpu[m], rtol=rtol, atol=1e-12,
                                   msg=m)
