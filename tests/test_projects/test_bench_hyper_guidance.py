"""projects/reproductions/bench_hyper_guidance.py: the real-image training set holds no
Levin test image, the classical baseline's tuning, the results record and
the reuse of stored variants."""
import json
import os
import os.path as osp
import types

import cv2
import numpy as np
import pytest
from scipy.io import loadmat

from mmfusenas.testing import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = osp.join(osp.dirname(REPO), 'shared', 'data')
#: the training folders of the documented real-image run
REAL_DIRS = ['fusion/RoadScene221/vi', 'lowlight/LOL/our485_subset/high',
             'lowlight/mit/gt']
needs_shared = pytest.mark.skipif(
    not osp.isdir(osp.join(SHARED, 'deblur', 'levin09')) or not all(
        osp.isdir(osp.join(SHARED, d)) for d in REAL_DIRS),
    reason='../shared/data (Levin + the training folders) not available')


@pytest.fixture(scope='module')
def bench():
    return load_tool('projects/reproductions/bench_hyper_guidance.py')


def _levin_images():
    root = osp.join(SHARED, 'deblur', 'levin09')
    out = {}
    for name in sorted(os.listdir(root)):
        if name.endswith('.mat'):  # 4 images x 8 kernels: one x per image
            out.setdefault(name[:4], loadmat(osp.join(root, name))['x'])
    return out


@needs_shared
def test_no_training_image_contains_a_levin_image():
    """Normalised cross-correlation of every Levin sharp image (at 4 scales)
    slid over every training image (all at 1/4 resolution): no training
    image contains a Levin image or a near-duplicate of one. The same
    measure finds a Levin image pasted into a training image."""
    levin = _levin_images()
    assert len(levin) == 4
    files = sorted(osp.join(SHARED, d, f) for d in REAL_DIRS
                   for f in os.listdir(osp.join(SHARED, d)))
    assert len(files) == 221 + 6 + 5

    def small(img):
        return cv2.resize(img.astype(np.float32),
                          (max(1, img.shape[1] // 4),
                           max(1, img.shape[0] // 4)),
                          interpolation=cv2.INTER_AREA)

    templates = [small(cv2.resize(x.astype(np.float32), None, fx=s, fy=s,
                                  interpolation=cv2.INTER_AREA))
                 for x in levin.values() for s in (0.5, 0.75, 1.0, 1.25)]

    def best_ncc(img):
        img = small(img)
        return max(
            float(cv2.matchTemplate(img, t, cv2.TM_CCOEFF_NORMED).max())
            for t in templates
            if t.shape[0] <= img.shape[0] and t.shape[1] <= img.shape[1])

    worst = 0.0
    for path in files:
        img = cv2.imread(path, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
        worst = max(worst, best_ncc(img))
    assert worst < 0.8, worst
    # the measure does find a pasted Levin image
    host = cv2.imread(files[0], cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    x = next(iter(levin.values())).astype(np.float32)
    host[40:40 + x.shape[0], 60:60 + x.shape[1]] = x
    assert best_ncc(host) > 0.95


def _out(results, params=None):
    return dict(results=results, levin_files=['a.mat', 'b.mat'],
                params=params or {}, train_s={})


def test_results_record_ranks_by_hand(bench):
    args = types.SimpleNamespace(sigmas=[1.0, 3.0], iters=10, batch=4,
                                 crop=64, width=64, lr=1e-3)
    res = {
        'no guidance': {'1': dict(PSNR=30.0, SSIM=0.90),
                        '3': dict(PSNR=27.0, SSIM=0.80)},
        'proxy (bilevel)': {'1': dict(PSNR=31.0, SSIM=0.89),
                            '3': dict(PSNR=26.0, SSIM=0.81)},
    }
    rec = bench.results_record(_out(res, {'no guidance': 7}), args,
                               ['--iters', '10'])
    t1 = rec['result']['Levin, σ = 1 %']
    assert t1['proxy (bilevel)']['rank'] == {'PSNR': 1, 'SSIM': 2}
    assert t1['no guidance']['rank'] == {'PSNR': 2, 'SSIM': 1}
    assert t1['no guidance']['params'] == 7
    assert t1['no guidance']['images'] == 2
    # the paper's PSNR beside the measured rows, not ranked
    assert t1['paper: proxy (bilevel) (official plot script)'] == dict(
        PSNR=32.95)
    t3 = rec['result']['Levin, σ = 3 %']
    assert t3['no guidance']['rank']['PSNR'] == 1
    assert t3['paper: no guidance (official plot script)'] == dict(PSNR=29.37)
    assert rec['command'] == ('python projects/reproductions/bench_hyper_guidance.py '
                              '--iters 10')
    assert rec['metrics'] == ['PSNR', 'SSIM']
    assert 'table_metrics' not in rec
    # the domain check: one more table with its own columns
    out = _out(res)
    out['domain_check'] = {
        'gen': {'no guidance': 29.0, 'proxy (bilevel)': 29.5},
        'lev': {'no guidance': 28.0, 'proxy (bilevel)': 28.25}}
    rec = bench.results_record(out, args, [])
    title = ('Domain check, σ = 1 %: mean PSNR of 16 held-out training '
             'crops (128²) beside the 2 Levin pairs')
    assert rec['table_metrics'] == {title: ['gen', 'lev', 'Levin pairs']}
    assert rec['result'][title]['proxy (bilevel)'] == {
        'gen': 29.5, 'lev': 28.25, 'Levin pairs': 31.0, 'images': 16}


@needs_shared
def test_wiener_weight_is_tuned_inside_the_grid(bench):
    """The gradient-Wiener weight picked on training crops grows with the
    noise and is not at an edge of the grid."""
    args = types.SimpleNamespace(train_dirs=REAL_DIRS, tune_crops=6, seed=0)
    w1 = bench.tune_wiener(args, 0.01)
    w5 = bench.tune_wiener(args, 0.05)
    grid = bench.WIENER_GRID
    assert grid[0] < w1 < w5 < grid[-1]


@needs_shared
def test_stored_variants_are_reused_or_refused(bench, tmp_path, capsys):
    """A finished variant is read back when its options match; other
    options are an error naming the file; --report-only leaves out what
    did not run."""
    common = ['--iters', '1', '--width', '4', '--stages', '1', '--crop',
              '32', '--batch', '1', '--levin-files', '1', '--sigmas', '1',
              '--variants', 'none', '--out-dir', str(tmp_path),
              '--train-dirs', 'lowlight/mit/gt']
    first = bench.main(common)
    stored = json.loads((tmp_path / 'none.json').read_text())
    assert stored['params'] == first['params']['no guidance']
    assert (tmp_path / 'none.pth').is_file()
    again = bench.main(common)
    assert again['results'] == first['results']
    assert 'reused' in capsys.readouterr().out
    with pytest.raises(ValueError, match='none.json was run with other'):
        bench.main(common[:1] + ['2'] + common[2:])
    out = bench.main(common[:-2] + ['--variants', 'none', 'manual',
                                    '--report-only', '--train-dirs',
                                    'lowlight/mit/gt'])
    assert list(out['results']) == ['no guidance']
