"""Batched torch path of the fusion metrics vs the numpy path."""
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfusenas.evaluation import FusionMetric
from mmfusenas.evaluation.functional import fusion_torch as FT
from mmfusenas.evaluation.functional.fusion import (FUSION_METRICS,
                                                    FUSION_PRESETS,
                                                    compute_fusion_metrics)
from mmfusenas.structures import FusionDataSample

NON_FMI = [m for m in FUSION_METRICS if not m.startswith('FMI')]


def _pairs(shared_data, preset, n_tno=2, n_road=2, crop=(256, 320)):
    """Real pairs (TNO cropped to ``crop`` so that the test stays fast,
    RoadScene cropped to a common size) and a blended fused image."""
    gray = FUSION_PRESETS[preset]['gray']
    out = []
    for name, n in (('TNO', n_tno), ('RoadScene', n_road)):
        d = osp.join(shared_data, 'fusion', name)
        for stem in sorted(os.listdir(osp.join(d, 'ir')))[:n]:
            a = gray(cv2.imread(osp.join(d, 'ir', stem)))
            b = gray(cv2.imread(osp.join(d, 'vi', stem)))
            h, w = crop
            a, b = a[:h, :w], b[:h, :w]
            # a fused stand-in that is neither source nor their mean
            f = np.clip(np.round(0.6 * a + 0.4 * b + 0.1 * (a - b)), 0, 255)
            out.append((a, b, f))
    return out


@pytest.mark.parametrize('preset', sorted(FUSION_PRESETS))
def test_torch_matches_numpy_on_real_pairs(shared_data, preset):
    pairs = _pairs(shared_data, preset)
    a, b, f = (torch.from_numpy(np.stack(x)) for x in zip(*pairs))
    got = FT.compute_fusion_metrics_torch(a, b, f, preset, NON_FMI)
    assert list(got) == NON_FMI
    for i, (ai, bi, fi) in enumerate(pairs):
        ref = compute_fusion_metrics(ai, bi, fi, preset, NON_FMI)
        for m in NON_FMI:
            assert got[m].dtype == torch.float64
            assert got[m].shape == (len(pairs), )
            assert abs(got[m][i].item() - ref[m]) <= 1e-6 * max(
                1.0, abs(ref[m])), (preset, m, i)


def test_torch_hand_computed_values():
    # two grey levels in equal parts: EN = 1 bit, SD = 50, PSNR peak 200
    f = torch.zeros(1, 4, 4, dtype=torch.float64)
    f[:, :, 2:] = 100.0
    assert FT.entropy(f).item() == pytest.approx(1.0, abs=1e-15)
    assert FT.standard_deviation(f).item() == pytest.approx(50.0, abs=1e-12)
    # SF: horizontal differences 100 on 4 of 12, vertical all 0
    assert FT.spatial_frequency(f).item() == pytest.approx(
        math.sqrt(100.0**2 * 4 / 12), rel=1e-15)
    # identical images: MI(x, x) = H(x) in nats, SSIM = 1 per source
    x = torch.arange(64, dtype=torch.float64).view(1, 8, 8) * 4
    assert FT.mutual_information(x, x, base=2).item() == pytest.approx(6.0)
    assert FT.fusion_ssim(x, x, x, 'skimage', 2.0).item() == pytest.approx(
        2.0, abs=1e-12)
    # PSNR against both sources at +-2 grey levels, peak 255: MSE 4
    g = torch.full((1, 16, 16), 100.0, dtype=torch.float64)
    assert FT.fusion_psnr(g + 2, g - 2, g, peak='255').item() == \
        pytest.approx(10 * math.log10(255.0**2 / 4), rel=1e-15)


def test_torch_batch_rows_are_independent(shared_data):
    pairs = _pairs(shared_data, 'cddfuse', n_tno=1, n_road=2)
    a, b, f = (torch.from_numpy(np.stack(x)) for x in zip(*pairs))
    whole = FT.compute_fusion_metrics_torch(a, b, f, 'cddfuse', 'all')
    # FMI variants come from the numpy path, image by image
    for i in range(len(pairs)):
        one = FT.compute_fusion_metrics_torch(a[i:i + 1], b[i:i + 1],
                                              f[i:i + 1], 'cddfuse', 'all')
        for m in FUSION_METRICS:
            assert one[m].item() == pytest.approx(whole[m][i].item(),
                                                  rel=1e-12, abs=1e-15), m
    ref = compute_fusion_metrics(*pairs[0], 'cddfuse', ['FMI_pixel'])
    assert whole['FMI_pixel'][0].item() == ref['FMI_pixel']


def test_torch_input_errors():
    x = torch.zeros(2, 16, 16)
    with pytest.raises(ValueError, match='shape mismatch'):
        FT.compute_fusion_metrics_torch(x, x, torch.zeros(2, 16, 17))
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        FT.compute_fusion_metrics_torch(x[0], x[0], x[0])
    with pytest.raises(TypeError, match='torch Tensor'):
        FT.compute_fusion_metrics_torch(x.numpy(), x, x)
    with pytest.raises(KeyError, match='unknown fusion metric'):
        FT.compute_fusion_metrics_torch(x, x, x, 'cddfuse', ['XYZ'])


def _sample(a, b, f, stem):
    ds = FusionDataSample(metainfo=dict(stem=stem))
    ds.sources = torch.from_numpy(np.stack([a, b]) / 255).float()
    ds.pred_fused = torch.from_numpy(f / 255)[None].float()
    return ds


def test_fusion_metric_torch_backend_matches_numpy(shared_data):
    # mixed sizes: two stacks; order and stems as given
    pairs = _pairs(shared_data, 'tang', n_tno=1, n_road=1)
    a, b, f = pairs[1]
    pairs.append((a[:200, :240], b[:200, :240], f[:200, :240]))
    samples = [_sample(*p, f's{i}') for i, p in enumerate(pairs)]
    names = ['EN', 'MI', 'VIF', 'Qabf', 'SSIM', 'PSNR', 'FMI_pixel']
    res = {}
    for backend in ('numpy', 'torch'):
        m = FusionMetric(preset='tang', metrics=names, backend=backend)
        m.process(None, [s.to_dict() for s in samples])
        assert [r['stem'] for r in m.results] == ['s0', 's1', 's2']
        res[backend] = (m.results, m.compute_metrics(m.results))
    for rn, rt in zip(res['numpy'][0], res['torch'][0]):
        for k in names:
            assert rt[k] == pytest.approx(rn[k], rel=1e-6, abs=1e-9), k
    for k in names:
        assert res['torch'][1][k] == pytest.approx(res['numpy'][1][k],
                                                   rel=1e-6)


def test_fusion_metric_backend_validated():
    with pytest.raises(ValueError, match="'numpy' or 'torch'"):
        FusionMetric(backend='cupy')


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs a CUDA device')


@needs_cuda
@pytest.mark.parametrize('preset', sorted(FUSION_PRESETS))
def test_torch_on_cuda_matches_numpy_on_real_pairs(shared_data, preset):
    # the same real pairs as on CPU, evaluated on the GPU: every non-FMI
    # metric within 1e-6 (relative) of the numpy path, results on the GPU
    pairs = _pairs(shared_data, preset)
    a, b, f = (torch.from_numpy(np.stack(x)).cuda() for x in zip(*pairs))
    got = FT.compute_fusion_metrics_torch(a, b, f, preset, 'all')
    assert list(got) == list(FUSION_METRICS)
    for i, (ai, bi, fi) in enumerate(pairs):
        ref = compute_fusion_metrics(ai, bi, fi, preset, 'all')
        for m in FUSION_METRICS:
            assert got[m].device.type == 'cuda', m
            assert abs(got[m][i].item() - ref[m]) <= 1e-6 * max(
                1.0, abs(ref[m])), (preset, m, i)


@needs_cuda
def test_fusion_metric_torch_backend_on_cuda(shared_data):
    # FusionMetric(device='cuda') with CPU samples: moved to the GPU,
    # the per-image rows and the averages equal the numpy backend
    pairs = _pairs(shared_data, 'cddfuse', n_tno=1, n_road=1)
    samples = [_sample(*p, f's{i}') for i, p in enumerate(pairs)]
    res = {}
    for backend, device in (('numpy', None), ('torch', 'cuda')):
        m = FusionMetric(preset='cddfuse', backend=backend, device=device)
        m.process(None, [s.to_dict() for s in samples])
        res[backend] = (m.results, m.compute_metrics(m.results))
    for rn, rt in zip(res['numpy'][0], res['torch'][0]):
        assert rt['stem'] == rn['stem']
        for k in res['numpy'][1]:
            assert rt[k] == pytest.approx(rn[k], rel=1e-6, abs=1e-9), k


def test_bench_fusion_metrics_torch_path(shared_data, capsys):
    """``bench_fusion_metrics.py --torch`` on CPU (real crops, batch 3 of
    2 pairs): per-metric and suite times per pair for every non-FMI metric,
    the numpy suite times beside them, and the largest difference from the
    numpy path (<= 1e-6) in the table and the RESULT fields."""
    import argparse

    from helpers import load_tool
    bench = load_tool('benchmarks/bench_fusion_metrics.py')
    pairs = _pairs(shared_data, 'cddfuse', n_tno=1, n_road=1,
                   crop=(192, 224))
    args = argparse.Namespace(preset='cddfuse', device='cpu', batch=3,
                              repeat=1)
    from mmfusenas.evaluation.functional.fusion import resolve_metrics
    out = bench._torch_path(pairs, resolve_metrics('cddfuse'), args)
    assert out['torch_batch'] == 3 and out['torch_device'].startswith('cpu')
    assert list(out['torch_ms_per_pair']) == NON_FMI
    assert all(v > 0 for v in out['torch_ms_per_pair'].values())
    assert 0 <= out['torch_max_rel_diff'] <= 1e-6
    for key in ('torch_default_ms_per_pair', 'numpy_default_ms_per_pair',
                'torch_non_FMI_ms_per_pair', 'numpy_non_FMI_ms_per_pair'):
        assert out[key] > 0, key
    printed = capsys.readouterr().out
    assert 'torch vs numpy: max relative difference' in printed
    assert '[ok]' in printed


def test_bench_fusion_metrics_reference_record(shared_data, tmp_path):
    """``bench_fusion_metrics.py --reference --results-json``: one row per
    metric and per suite with the reference's and our times, the wall
    speed-up their ratio, values agreeing with the reference (<= 1e-9,
    FMI a band), written as a record that renders into a docs table."""
    import argparse
    import json

    from mmfusenas.evaluation.functional.fusion import (FUSION_METRICS,
                                                        resolve_metrics)
    from helpers import load_tool
    bench = load_tool('benchmarks/bench_fusion_metrics.py')
    render = load_tool('tools/misc/results_to_docs.py').render
    # MS-SSIM's five scales need 176 pixels a side
    pairs = _pairs(shared_data, 'cddfuse', n_tno=1, n_road=0,
                   crop=(192, 224))
    args = argparse.Namespace(preset='cddfuse', repeat=1, fmi_rows=1)
    fns = FUSION_PRESETS['cddfuse']['fns']
    default, full = resolve_metrics('cddfuse'), tuple(FUSION_METRICS)
    out, table = bench._reference(pairs, fns, default, full, args)
    suites = [f'suite default ({len(default)} metrics)',
              f'suite FULL ({len(full)} metrics)']
    assert len(table) == len(full) + 2 and list(table)[-2:] == suites
    for name, row in table.items():
        assert list(row) == list(bench.REFERENCE_COLUMNS)
        ref_ms, ours_ms, ratio = (row['reference ms'], row['ours ms'],
                                  row['speed-up (wall)'])
        assert ref_ms > 0 and ours_ms > 0 and ratio > 0
        if name.startswith('FMI'):
            assert name.endswith('(extrapolated)')
            assert row['max abs diff'] == 'n/a (band)'
        elif not name.startswith('suite'):
            # ms kept to the microsecond (half a microsecond of rounding
            # each), the ratio to 0.1
            rounding = 0.0005 / ours_ms + 0.0005 / ref_ms
            assert abs(ratio - ref_ms / ours_ms) <= 0.051 + 1.2 * rounding \
                * ref_ms / ours_ms, name
            assert float(row['max abs diff']) <= 1e-9, name
    assert table[suites[0]]['speed-up (wall)'] == out['default_speedup']
    path = str(tmp_path / 'metrics_reference.json')
    bench.write_reference_record(path, ['--reference', '--pairs', '1'],
                                 table, out, 1)
    with open(path) as f:
        record = json.load(f)
    assert record['command'] == ('python benchmarks/bench_fusion_metrics.py'
                                 ' --reference --pairs 1')
    assert record['RESULT'] == out
    text = render(record)
    assert '**cddfuse conventions, TNO 768x576** (1 pairs)' in text
    assert '| suite default (11 metrics) |' in text
    assert '| VIF |' in text
    with pytest.raises(SystemExit, match='add --reference'):
        bench.main(['--results-json', str(tmp_path / 'x.json')])
