"""projects/reproductions/bench_task_necks.py --mode decoders and its shared helpers
(common helpers of the same file)."""
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch

from helpers import load_tool


def _load(name):
    return load_tool(f'projects/reproductions/{name}.py')


@pytest.fixture(scope='module')
def bench():
    return _load('bench_task_necks')


@pytest.fixture(scope='module')
def common():
    return _load('bench_task_necks')


def test_miou_hand_computed(bench):
    # 2 x 3 labels, classes 0..4; 255 ignored
    gt = torch.tensor([[0, 0, 1], [1, 2, 255]])
    pred = torch.tensor([[0, 1, 1], [1, 0, 4]])
    r = bench.miou(pred, gt)
    # class 0: inter 1, union 2 + 1 ... gt {0,0}, pred 0 at (0,0),(1,1)
    #   -> inter 1, union |gt0|=2 + |pred0|=2 - 1 = 3
    # class 1: gt {(0,2),(1,0)}, pred {(0,1),(0,2),(1,0)} -> 2 / 3
    # class 2: gt {(1,1)}, pred {} -> 0 / 1
    # classes 3, 4: absent from labels and (valid) predictions -> NaN, out
    assert r['per_class'][0] == pytest.approx(1 / 3)
    assert r['per_class'][1] == pytest.approx(2 / 3)
    assert r['per_class'][2] == 0.0
    assert math.isnan(r['per_class'][3]) and math.isnan(r['per_class'][4])
    assert r['mIoU'] == pytest.approx((1 / 3 + 2 / 3 + 0) / 3)
    assert r['aAcc'] == pytest.approx(3 / 5)


def test_random_ops_shape_and_determinism(common):
    from mmfusenas.models.ops import TASK_OP_NAMES
    a = common.random_ops(np.random.default_rng(0), 2, 2)
    b = common.random_ops(np.random.default_rng(0), 2, 2)
    assert a == b
    assert len(a) == 2 and all(len(c) == 3 for c in a)
    assert all(op in TASK_OP_NAMES for c in a for op in c)


def test_width_within_params_and_flops_of_deeplabv3plus(bench):
    from mmfusenas.search.estimators import config_cost, largest_width
    """The matched width is the largest whose segmentor costs no more
    FLOPs and params than DeepLabV3+; the next larger width exceeds one."""
    res = 64
    base = config_cost(
        bench.segmentor(bench.mmseg_head('deeplabv3plus', 32), True), res,
        scope='mmseg')
    ops = [['conv_3', 'skip', 'res_conv_3'], ['conv_1', 'conv_5', 'skip']]

    def make(w):
        return bench.segmentor(bench.distillation_head(ops, w, 2), False)

    widths = [32, 16, 12, 8]
    budget = dict(gflops=base['gflops'], params_m=base['params_m'])
    w = largest_width(make, widths, budget, res, scope='mmseg')
    c = config_cost(make(w), res, scope='mmseg')
    assert c['gflops'] <= base['gflops'] and c['params_m'] <= base['params_m']
    larger = [x for x in widths if x > w]
    assert larger, 'every width fits: the test says nothing'
    c_next = config_cost(make(min(larger)), res, scope='mmseg')
    assert (c_next['gflops'] > base['gflops']
            or c_next['params_m'] > base['params_m'])
    with pytest.raises(ValueError, match='no width'):
        largest_width(make, [64], dict(gflops=1e-6), res,
                             scope='mmseg')


def test_genotype_ops_rejects_other_spaces(bench, tmp_path):
    from mmfusenas.models.mutables import Genotype
    path = str(tmp_path / 'neck.yaml')
    Genotype(choices={}, network=dict(
        type='mmfusenas.SearchableDistillationNeck',
        ops=[['conv_3']])).dump(path)
    with pytest.raises(ValueError, match='SearchableDistillationHead'):
        bench.genotype_ops(path)


def test_searched_variant_needs_genotype(bench):
    args = bench.decoders_parse_args(['--variants', 'searched', '--res', '64'])
    with pytest.raises(ValueError, match='--genotype'):
        bench.build_variants(args)


def test_pipeline_same_seed_same_result(bench, tmp_path):
    """Two runs of one (decoder, seed) see the same data order, flips and
    init: identical mIoU; the RESULT summary covers the variants. The first
    run writes the toy set of --num into --data-dir, the second reuses it."""
    root = str(tmp_path / 'toy')
    argv = [
        '--data-dir', root, '--num', '12', '--res', '64', '--iters', '2',
        '--batch', '2',
        '--seeds', '0', '--random', '1', '--variants', 'fcn', 'random0',
        '--jobs', '1', '--json-out', str(tmp_path / 'r.json')
    ]
    r1 = bench.main_decoders(argv)
    stamp = os.stat(osp.join(root, 'meta.json')).st_mtime_ns
    r2 = bench.main_decoders(argv)
    assert os.stat(osp.join(root, 'meta.json')).st_mtime_ns == stamp
    s1, s2 = r1['summary'], r2['summary']
    assert set(s1) == {'fcn', 'random0'}
    for k in s1:
        assert s1[k]['per_seed'] == s2[k]['per_seed']
        assert 0.0 <= s1[k]['mIoU'] <= 1.0
    assert osp.isfile(tmp_path / 'r.json')


def test_toy_data_dir_is_reused_only_for_its_pairs_and_seed(bench,
                                                            tmp_path):
    """--data-dir: generated where it has no meta.json, reused when that
    records --num and --data-seed, refused (naming them) otherwise."""
    import json
    root = str(tmp_path / 'toy')

    def toy_data(*argv):
        tmp, got = bench.toy_data(bench.decoders_parse_args(
            ['--data-dir', root, *argv]))
        tmp.cleanup()
        return got

    assert toy_data('--num', '4', '--data-seed', '2') == root
    meta = json.load(open(osp.join(root, 'meta.json')))
    assert (meta['num'], meta['seed']) == (4, 2)
    stamp = os.stat(osp.join(root, 'meta.json')).st_mtime_ns
    assert toy_data('--num', '4', '--data-seed', '2') == root  # reused
    assert os.stat(osp.join(root, 'meta.json')).st_mtime_ns == stamp
    with pytest.raises(ValueError, match=r'num 4 \(this run: 5\)'):
        toy_data('--num', '5', '--data-seed', '2')
    with pytest.raises(ValueError, match=r'seed 2 \(this run: 0\)'):
        toy_data('--num', '4')


def test_seg_loss_equals_mmseg_loss_with_unit_weights(bench):
    """Unit class weights and no ignored pixels: the benchmark's loss is
    mmseg's decode + 0.4 aux cross-entropy; a foreground weight w scales a
    foreground-only image's loss by nothing (weighted mean) but changes a
    mixed one's."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    cfg = bench.segmentor(bench.mmseg_head('fcn', 8), dilated=True)
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        model = MODELS.build(cfg)
    model.eval()  # no dropout, fixed BN: the two passes see one network
    torch.manual_seed(1)
    x = torch.randn(2, 3, 32, 32)
    y = torch.randint(0, 5, (2, 32, 32))
    ours = bench.seg_loss(model, x, y, torch.ones(5))
    losses = model.loss(x, bench.seg_samples(y, 2, 32))
    ref = losses['decode.loss_ce'] + losses['aux.loss_ce']
    assert torch.allclose(ours, ref, atol=1e-6)
    fg = torch.ones_like(y)
    w = torch.tensor([1.0, 10.0, 10.0, 10.0, 10.0])
    assert torch.allclose(
        bench.seg_loss(model, x, fg, w), bench.seg_loss(
            model, x, fg, torch.ones(5)), atol=1e-6)
    assert not torch.allclose(
        bench.seg_loss(model, x, y, w), ours, atol=1e-4)
