"""FusionInferencer: equal to tools/fuse.py on real pairs and to
tools/test.py on a toy compound model; input forms, batches, output layout,
model names and errors."""
import json
import os
import os.path as osp

import cv2
import mmengine
import numpy as np
import pytest
import torch

from mmfusenas.apis import (FusionInferencer, inference_fusion,
                            resolve_model_name, result_image)
from helpers import (REPO_ROOT, load_tool,
                     save_detecting_checkpoint,
                     save_seeded_checkpoint)
from mmfusenas.testing.toy_data import generate_toy_dataset

FUSION_CFG = osp.join(REPO_ROOT, 'configs', 'tim', 'fusion_ivif_toy.py')
DET_CFG = osp.join(REPO_ROOT, 'configs', 'tim', 'retinanet_ivif_toy.py')
RUAS_CFG = osp.join(REPO_ROOT, 'configs', 'ruas', 'ruas_a_toy.py')
TINY = {'model.fusion_net.channels': 4}

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def pairs(shared_data, tmp_path_factory):
    """Crops of two TNO pairs (grey) and a RoadScene pair (colour VIS):
    ir/, vi/ folders, 61 x 77 (not a multiple of 4)."""
    root = tmp_path_factory.mktemp('pairs')
    src = [('TNO', '05.png', '05'), ('TNO', '07.png', '07'),
           ('RoadScene', 'FLIR_00977.jpg', 'road')]
    for folder in ('ir', 'vi'):
        os.makedirs(root / folder)
        for data, name, stem in src:
            img = cv2.imread(
                osp.join(shared_data, 'fusion', data, folder, name),
                cv2.IMREAD_UNCHANGED)
            cv2.imwrite(str(root / folder / f'{stem}.png'),
                        img[100:161, 120:197])
    return root


@pytest.fixture(scope='module')
def fusion(tmp_path_factory):
    """A seeded tiny fusion checkpoint and its inferencer."""
    ckpt = save_seeded_checkpoint(
        FUSION_CFG, str(tmp_path_factory.mktemp('ckpt') / 'f.pth'), TINY)
    inf = FusionInferencer(FUSION_CFG, ckpt, device='cpu',
                           cfg_options=dict(model=dict(
                               fusion_net=dict(channels=4))),
                           show_progress=False)
    return ckpt, inf


def test_inferencer_equals_fuse_tool_on_real_pairs(pairs, fusion, tmp_path):
    ckpt, inf = fusion
    out = str(tmp_path / 'inf')
    res = inf(dict(ir=str(pairs / 'ir'), vi=str(pairs / 'vi')), out_dir=out,
              save_panels=True)
    assert [p['stem'] for p in res['predictions']] == ['05', '07', 'road']
    assert res['visualization'] == []  # return_vis=False
    ref = str(tmp_path / 'fuse')
    load_tool('tools/fuse.py').main([
        FUSION_CFG, ckpt, '--ir', str(pairs / 'ir'), '--vi',
        str(pairs / 'vi'), '--out', ref, '--cfg-options',
        'model.fusion_net.channels=4'
    ])
    assert sorted(os.listdir(osp.join(out, 'vis'))) == sorted(
        os.listdir(ref)) == ['05.png', '07.png', 'road.png']
    for pred in res['predictions']:
        stem = pred['stem']
        tool = cv2.imread(osp.join(ref, f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        vis = cv2.imread(osp.join(out, 'vis', f'{stem}.png'),
                         cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(vis, tool)  # bit for bit
        np.testing.assert_array_equal(pred['fused'], tool)
        # the panel: ir | 4 px | vi | 4 px | fused, 14 px title bars
        panel = cv2.imread(osp.join(out, 'panels', f'{stem}.png'))
        assert panel.shape == (61 + 14, 3 * 77 + 8, 3)
        np.testing.assert_array_equal(
            panel[14:, -77:], cv2.cvtColor(tool, cv2.COLOR_GRAY2BGR)
            if tool.ndim == 2 else tool)
        # the source cells: the files as decoded in colour
        for i, folder in enumerate(('ir', 'vi')):
            np.testing.assert_array_equal(
                panel[14:, i * 81:i * 81 + 77],
                cv2.imread(str(pairs / folder / f'{stem}.png'),
                           cv2.IMREAD_COLOR))
    assert res['predictions'][2]['fused'].ndim == 3  # colour VIS -> RGB
    assert res['predictions'][0]['fused'].shape == (61, 77)
    # fusion models write no preds/ and no fused/ (vis/ is the fused image)
    assert sorted(os.listdir(out)) == ['panels', 'vis']


def test_input_forms_and_batches_agree(pairs, fusion):
    _, inf = fusion
    ir = [str(pairs / 'ir' / f'{s}.png') for s in ('05', '07', 'road')]
    vi = [str(pairs / 'vi' / f'{s}.png') for s in ('05', '07', 'road')]
    one = inf((ir[0], vi[0]), return_datasamples=True)['predictions']
    assert len(one) == 1
    ref = inference_fusion(inf.model, [ir[0], vi[0]])
    assert torch.equal(one[0].pred_fused, ref.pred_fused)
    # dict of paths (any key order), arrays as cv2 reads them, a list
    as_dict = inf(dict(vi=vi[0], ir=ir[0]))['predictions'][0]['fused']
    arrays = [cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in (ir[2], vi[2])]
    from_arrays = inf(tuple(arrays))['predictions'][0]
    assert from_arrays['stem'] == '00000000'
    listed = inf(list(zip(ir, vi)))['predictions']
    np.testing.assert_array_equal(as_dict, result_image(ref))
    np.testing.assert_array_equal(from_arrays['fused'], listed[2]['fused'])
    # batches of 2 and 3 equal batch 1 (pairs of one size) up to the float
    # rounding of batched convolutions
    single = inf(list(zip(ir, vi)), return_datasamples=True)['predictions']
    for size in (2, 3):
        batched = inf(list(zip(ir, vi)), batch_size=size,
                      return_datasamples=True)['predictions']
        assert [a.stem for a in batched] == ['05', '07', 'road']
        for a, b in zip(batched, single):
            torch.testing.assert_close(a.pred_fused, b.pred_fused, rtol=0,
                                       atol=1e-6)
    vis = inf((ir[0], vi[0]), return_vis=True)['visualization']
    np.testing.assert_array_equal(vis[0], result_image(ref))


def test_inferencer_errors(pairs, fusion, tmp_path):
    _, inf = fusion
    ir, vi = str(pairs / 'ir' / '05.png'), str(pairs / 'vi' / '05.png')
    with pytest.raises(FileNotFoundError,
                       match=r"missing\.png' \(modality 'vi'\) does not"):
        inf((ir, str(tmp_path / 'missing.png')))
    with pytest.raises(ValueError, match='differ in size'):
        inf((np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8)))
    with pytest.raises(ValueError, match=r"has 4 dimensions \(array shape "
                       r"\(1, 8, 8, 1\)\); expected 1 \(gray\) or 3"):
        inf((np.zeros((1, 8, 8, 1), np.uint8), np.zeros((8, 8), np.uint8)))
    with pytest.raises(ValueError, match='2 modalities'):
        inf(dict(ir=ir, vi=vi, x=ir))
    with pytest.raises(ValueError, match=r"share the stems \['05'\]"):
        inf([(ir, vi), (ir, vi)])
    with pytest.raises(ValueError, match='uint8'):
        inf((np.zeros((8, 8), np.float32), np.zeros((8, 8), np.float32)))
    with pytest.raises(FileNotFoundError, match=r'close names: .*'
                       r'mmfusenas::tim/fusion_ivif_toy\.py'):
        FusionInferencer('mmfusenas::tim/fusion_ivif_tyo')
    with pytest.raises(TypeError, match="'enhance' model: use"):
        FusionInferencer(RUAS_CFG)


def test_model_names_resolve_to_package_configs():
    assert resolve_model_name('mmfusenas::tim/fusion_ivif_toy') == \
        resolve_model_name('mmfusenas::tim/fusion_ivif_toy.py')
    assert osp.samefile(
        resolve_model_name('mmfusenas::tim/fusion_ivif_toy.py'), FUSION_CFG)
    with pytest.warns(UserWarning, match='initial'):
        inf = FusionInferencer('mmfusenas::tim/fusion_ivif_toy.py',
                               device='cpu')
    assert inf.cfg.filename.endswith('fusion_ivif_toy.py')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """Toy IR/VIS data (64 px; val = 00001, 00003) and a seeded
    checkpoint of the toy fusion + RetinaNet whose classifier prior is
    moved from 0.01 to 0.5, so that the untrained detector returns boxes
    above the test score threshold."""
    root = tmp_path_factory.mktemp('toy')
    data = str(root / 'toy')
    generate_toy_dataset(data, num=4, seed=3, size=64, val_fraction=0.5)
    ckpt = save_detecting_checkpoint(DET_CFG, str(root / 'det.pth'))
    return data, ckpt


def test_compound_predictions_equal_test_tool(toy, tmp_path):
    data, ckpt = toy
    dump = str(tmp_path / 'dump.pkl')
    cfg = tmp_path / 'dump_cfg.py'
    cfg.write_text(f'_base_ = [{DET_CFG!r}]\n'
                   f"test_evaluator = [dict(type='mmengine.DumpResults', "
                   f'out_file_path={dump!r})]\n')
    load_tool('tools/test.py').main([
        str(cfg), ckpt, '--data-root', data, '--work-dir',
        str(tmp_path / 'work')
    ])
    dumped = {osp.basename(r['img_path']['ir'])[:-4]: r
              for r in mmengine.load(dump)}
    assert sorted(dumped) == ['00001', '00003']

    inf = FusionInferencer(DET_CFG, ckpt, device='cpu', show_progress=False)
    out = str(tmp_path / 'out')
    inputs = [(osp.join(data, 'ir', f'{s}.png'),
               osp.join(data, 'vi', f'{s}.png')) for s in sorted(dumped)]
    res = inf(inputs, batch_size=2, out_dir=out, pred_score_thr=0.0,
              return_datasamples=True, save_panels=True)
    for pred in res['predictions']:
        ref = dumped[pred.stem]['pred_instances']
        inst = pred.pred_instances
        assert len(inst.bboxes) == len(ref['bboxes']) > 0
        torch.testing.assert_close(inst.bboxes, ref['bboxes'], rtol=0,
                                   atol=1e-4)
        torch.testing.assert_close(inst.scores, ref['scores'], rtol=0,
                                   atol=1e-6)
        assert torch.equal(inst.labels, ref['labels'])
        # preds/<stem>.json: the same boxes, in input (64 px) pixels
        with open(osp.join(out, 'preds', f'{pred.stem}.json')) as f:
            js = json.load(f)
        assert js['labels'] == ref['labels'].tolist()
        np.testing.assert_allclose(js['bboxes'], ref['bboxes'].numpy(),
                                   atol=1e-4)
        assert js['fused_shape'] == [128, 128]  # the pipeline's resize
        # fused/ is the model's image; vis/ the same at the input size
        # with the boxes drawn: it differs exactly where boxes are drawn
        fused = cv2.imread(osp.join(out, 'fused', f'{pred.stem}.png'),
                           cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(fused, result_image(pred))
        vis = cv2.imread(osp.join(out, 'vis', f'{pred.stem}.png'))
        plain = inf.overlay(pred, draw_pred=False)
        assert vis.shape == plain.shape == (64, 64, 3)
        drawn = inf.overlay(pred, pred_score_thr=0.0)
        np.testing.assert_array_equal(vis, drawn)
        changed = (vis != plain).any(2)
        x1, y1 = np.floor(ref['bboxes'][0, :2].numpy()).astype(int)
        assert changed.mean() > 0.05
        assert changed[max(y1, 0):, max(x1, 0):].any()
        assert osp.isfile(osp.join(out, 'panels', f'{pred.stem}.png'))
    # no_save_pred / threshold: boxes below it are not drawn
    res = inf(inputs[:1], pred_score_thr=1.1, return_vis=True)
    np.testing.assert_array_equal(
        res['visualization'][0],
        inf.overlay(inf(inputs[:1], return_datasamples=True)[
            'predictions'][0], draw_pred=False))


def test_optimize_modes_match_eager(pairs, fusion):
    ckpt, inf = fusion
    fast = FusionInferencer(FUSION_CFG, ckpt, device='cpu',
                            optimize='fold_bn,channels_last',
                            cfg_options={'model.fusion_net.channels': 4},
                            show_progress=False)
    pair = (str(pairs / 'ir' / 'road.png'), str(pairs / 'vi' / 'road.png'))
    a = inf(pair, return_datasamples=True)['predictions'][0]
    b = fast(pair, return_datasamples=True)['predictions'][0]
    torch.testing.assert_close(b.pred_fused, a.pred_fused, rtol=0,
                               atol=1e-5)
    assert not any(isinstance(m, torch.nn.BatchNorm2d)
                   for m in fast.model.modules())
