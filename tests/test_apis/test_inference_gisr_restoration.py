"""inference_model on guided depth SR, restoration and chain models, on
shared real images, checked against the tools."""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from scipy.io import loadmat

from mmfusenas.apis import (build_batch, inference_enhancer,
                            inference_model, init_model, result_image)
from mmfusenas.evaluation.metrics import GISRMetric
from mmfusenas.models.gisr.dcnas_space import dcnas_space
from helpers import load_tool, save_seeded_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GISR_CFG = osp.join(REPO, 'configs', 'dcnas', 'supernet_toy_x4.py')
HQS_CFG = osp.join(REPO, 'configs', 'hyper_guidance',
                   'hqs_proxy_bilevel_toy.py')
HBL_CFG = osp.join(REPO, 'configs', 'hbl', 'hbl_lol.py')
CHAIN_CFG = osp.join(REPO, 'configs', 'compose',
                     'chain_retinanet_night_toy.py')

pytestmark = pytest.mark.usefixtures('one_thread')


def fixed_arch():
    """A fixed 4-stage, 2-block DCNAS genotype using every op kind."""
    space = dcnas_space(4, 2)
    return {k: v[i % len(v)] for i, (k, v) in enumerate(space.items())}


@pytest.fixture(scope='module')
def gisr_setup(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp('gisr')
    mb = osp.join(shared_data, 'gisr', 'Middlebury')
    for sub, tag in (('RGB', 'color'), ('Depth', 'depth')):
        os.makedirs(root / 'test' / sub)
        for i in ('03', '04'):
            shutil.copy(osp.join(mb, sub, f'Middlebury_{i}_output_{tag}.png'),
                        root / 'test' / sub)
    # the toy config with a fixed genotype, as a file for tools/test.py
    cfg_file = str(root / 'gisr_fixed.py')
    with open(cfg_file, 'w') as f:
        f.write(f'_base_ = [{GISR_CFG!r}]\n'
                f'model = dict(network=dict(arch={fixed_arch()!r}))\n')
    cfg = Config.fromfile(cfg_file)
    ckpt = save_seeded_checkpoint(cfg, str(root / 'gisr.pth'))
    return root, cfg, ckpt, cfg_file


def test_gisr_api_equals_test_tool(gisr_setup, tmp_path):
    root, cfg, ckpt, cfg_file = gisr_setup
    model = init_model(cfg, ckpt)
    test_dir = root / 'test'
    preds = []
    for i in ('03', '04'):
        depth = str(test_dir / 'Depth' / f'Middlebury_{i}_output_depth.png')
        rgb = str(test_dir / 'RGB' / f'Middlebury_{i}_output_color.png')
        pred = inference_model(model, (depth, rgb))
        # 413 x 370 mod-cropped to multiples of 32 by the test pipeline
        assert pred['pred_depth'].shape == (352, 384)
        assert pred['sample_id'] == f'Middlebury_{i}'
        gt = cv2.imread(depth, cv2.IMREAD_UNCHANGED).astype(np.float32)
        np.testing.assert_array_equal(pred['gt_depth'].numpy(),
                                      gt[9:9 + 352, 14:14 + 384])
        preds.append(pred)
    # dispatch and batch give the same
    same = inference_model(model, dict(depth=depth, rgb=rgb))
    assert torch.equal(same['pred_depth'], preds[1]['pred_depth'])
    both = inference_model(
        model, [(str(test_dir / 'Depth' / f'Middlebury_{i}_output_depth.png'),
                 str(test_dir / 'RGB' / f'Middlebury_{i}_output_color.png'))
                for i in ('03', '04')], batch=True)
    for a, b in zip(both, preds):
        torch.testing.assert_close(a['pred_depth'], b['pred_depth'],
                                   rtol=0, atol=1e-3)
    # tools/test.py on the same two samples reports the metrics of the
    # API's predictions exactly
    metric = GISRMetric(preset='rgbdd', with_bicubic=True)
    metric.process({}, preds)
    expected = metric.compute_metrics(metric.results)
    out = tmp_path / 'out'
    got = load_tool('tools/test.py').main([
        cfg_file, ckpt, '--work-dir', str(tmp_path / 'work'), '--out-dir',
        str(out), '--cfg-options',
        f'test_dataloader.dataset.data_root={test_dir}'
    ])
    # ... and writes the API's depth maps exactly (float32 .npy, stored
    # unit) with an 8-bit view
    for pred in preds:
        written = out / pred['sample_id']
        np.testing.assert_array_equal(np.load(f'{written}.npy'),
                                      pred['pred_depth'].numpy())
        view = cv2.imread(f'{written}.png', cv2.IMREAD_UNCHANGED)
        assert view.shape == (352, 384) and view.min() == 0 and \
            view.max() == 255
    assert set(expected) <= {k.split('/')[-1] for k in got}
    for key, value in got.items():
        assert value == pytest.approx(expected[key.split('/')[-1]],
                                      rel=1e-6), key


def test_gisr_api_real_lr_depth(gisr_setup, shared_data):
    _, cfg, ckpt, _ = gisr_setup
    model = init_model(cfg, ckpt)
    real = osp.join(shared_data, 'gisr', 'RGBDD_Test_Realscene')
    stem = sorted(os.listdir(osp.join(real, 'RGB')))[0][:-len('_RGB.jpg')]
    lr = osp.join(real, 'DepthLR', f'{stem}_LR_fill_depth.png')
    rgb = osp.join(real, 'RGB', f'{stem}_RGB.jpg')
    pred = inference_model(model, (lr, rgb))
    assert pred['pred_depth'].shape == (384, 512)
    assert 'gt_depth' not in pred and pred['sample_id'] == stem
    # the bicubic input spans the LR depth's range (its own min / max)
    raw = cv2.imread(lr, cv2.IMREAD_UNCHANGED).astype(np.float32)
    lr_up = cv2.resize(raw, (512, 384), interpolation=cv2.INTER_CUBIC)
    assert abs(float(pred['bicubic'].mean()) - float(lr_up.mean())) < 0.01 \
        * float(raw.mean())
    # the network by hand on the same normalised inputs
    from mmfusenas.datasets.transforms.gisr_transforms import (
        IMAGENET_MEAN, IMAGENET_STD, resize_depth)
    lo, hi = float(raw.min()), float(raw.max())
    lr_n = resize_depth((raw - lo) / (hi - lo), (384, 512), 'pil')
    img = cv2.cvtColor(cv2.imread(rgb), cv2.COLOR_BGR2RGB) / np.float32(255)
    img = ((img - np.asarray(IMAGENET_MEAN, np.float32)) /
           np.asarray(IMAGENET_STD, np.float32)).transpose(2, 0, 1)
    with torch.no_grad():
        out = model.network(
            torch.from_numpy(lr_n)[None, None].float(),
            torch.from_numpy(np.ascontiguousarray(img))[None].float())
    torch.testing.assert_close(pred['pred_depth'], out[0, 0] * (hi - lo) + lo,
                               rtol=1e-5, atol=1e-3)
    # with the HR ground truth named, it is returned (not degraded)
    gt = osp.join(real, 'Depth', f'{stem}_HR_gt.png')
    with_gt = inference_model(model, (lr, rgb), gt=gt)
    assert torch.equal(with_gt['pred_depth'], pred['pred_depth'])
    assert with_gt['gt_depth'].shape == (384, 512)
    with pytest.raises(ValueError, match='larger than its RGB guide'):
        inference_model(model, (gt, lr))
    with pytest.raises(FileNotFoundError,
                       match=r'^depth map not found: nope\.png$'):
        inference_model(model, ('nope.png', rgb))
    with pytest.raises(FileNotFoundError,
                       match=r'^ground-truth depth not found: nope\.png$'):
        inference_model(model, (lr, rgb), gt='nope.png')


@pytest.fixture(scope='module')
def levin(shared_data, tmp_path_factory):
    """Two Levin blurred images (same kernel; 128 x 128 crops) as 8-bit
    PNGs + kernels."""
    root = tmp_path_factory.mktemp('levin')
    os.makedirs(root / 'blurred')
    os.makedirs(root / 'kernels')
    for stem in ('im05_flit01', 'im06_flit01'):
        mat = loadmat(osp.join(shared_data, 'deblur', 'levin09',
                               f'{stem}.mat'))
        # a 128 x 128 crop keeps the test fast
        y = np.clip(np.round(mat['y'][:128, :128] * 255), 0,
                    255).astype(np.uint8)
        cv2.imwrite(str(root / 'blurred' / f'{stem}.png'), y)
        np.save(str(root / 'kernels' / f'{stem}.npy'), mat['f'])
    return root


def test_restorer_api_equals_deblur_tool(levin, tmp_path):
    cfg = Config.fromfile(HQS_CFG)
    ckpt = save_seeded_checkpoint(cfg, str(tmp_path / 'hqs.pth'))
    model = init_model(cfg, ckpt)
    out = str(tmp_path / 'out')
    load_tool('tools/deblur.py').main([
        HQS_CFG, ckpt, '--input', str(levin / 'blurred'), '--kernels',
        str(levin / 'kernels'), '--out', out
    ])
    for stem in ('im05_flit01', 'im06_flit01'):
        img = str(levin / 'blurred' / f'{stem}.png')
        kernel = str(levin / 'kernels' / f'{stem}.npy')
        sample = inference_model(model, img, kernel=kernel)
        # the edge padding is cropped off again
        assert sample.pred_img.shape == (1, 128, 128)
        written = cv2.imread(osp.join(out, f'{stem}.png'),
                             cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(written, result_image(sample))
        # a kernel array, the dispatch with an (image, kernel) pair
        arr = inference_model(model, img, kernel=np.load(kernel))
        assert torch.equal(arr.pred_img, sample.pred_img)
        same = inference_model(model, (img, kernel))
        assert torch.equal(same.pred_img, sample.pred_img)
    # the restorer itself (no algorithm wrapper) gives the same
    inner = model.architecture
    inner.cfg = model.cfg
    assert torch.equal(
        inference_model(inner, img, kernel=kernel).pred_img, sample.pred_img)
    # a batch (same sizes) = one by one
    imgs = [str(levin / 'blurred' / f'{s}.png')
            for s in ('im05_flit01', 'im06_flit01')]
    kers = [str(levin / 'kernels' / f'{s}.npy')
            for s in ('im05_flit01', 'im06_flit01')]
    batch = inference_model(model, imgs, batch=True, kernel=kers)
    torch.testing.assert_close(batch[1].pred_img, sample.pred_img,
                               rtol=0, atol=1e-5)
    with pytest.raises(FileNotFoundError,
                       match='kernel file nope.npy does not exist'):
        inference_model(model, img, kernel='nope.npy')
    with pytest.raises(ValueError, match=r'or an \(image, kernel\) pair'):
        inference_model(model, (img, kernel, kernel))


def test_restorer_api_runs_hbl_enhancers(shared_data, tmp_path):
    cfg = Config.fromfile(HBL_CFG)
    model = init_model(cfg)
    src = tmp_path / 'a.png'
    low = cv2.imread(osp.join(shared_data, 'lowlight', 'lol', 'test',
                              '00001.png'))
    cv2.imwrite(str(src), low[:64, :96])
    sample = inference_model(model, str(src))
    assert sample.pred_img.shape == (3, 64, 96)
    assert torch.equal(sample.pred_img,
                       inference_enhancer(model, str(src)).pred_img)
    with pytest.raises(ValueError, match='takes no blur kernel'):
        inference_model(model, str(src), kernel=np.ones((3, 3)))


def test_chain_api_returns_every_stage_image(shared_data):
    model = init_model(CHAIN_CFG)
    tno = osp.join(shared_data, 'fusion', 'TNO')
    paths = [osp.join(tno, m, '07.png') for m in ('ir', 'vi')]
    sample = inference_model(model, paths)
    assert sample.pred_vi_enh.shape == (3, 128, 128)  # RUAS stage
    assert sample.pred_fused.shape == (1, 128, 128)  # TIM stage
    assert sample.pred_fused_rgb.shape == (3, 128, 128)
    assert 'pred_instances' in sample
    same = inference_model(model, dict(ir=paths[0], vi=paths[1]))
    assert torch.equal(same.pred_vi_enh, sample.pred_vi_enh)
    assert torch.equal(same.pred_instances.bboxes,
                       sample.pred_instances.bboxes)
    assert result_image(sample).shape == (128, 128, 3)
    # the stages run directly on the preprocessed batch give the same
    # stage images (128 x 128: no padding to crop)
    data = model.data_preprocessor(build_batch(model, paths), False)
    with torch.no_grad():
        run = model.run_pre(data['inputs'])
    assert torch.equal(sample.pred_vi_enh,
                       run['images']['vi_enh'][0].clamp(0, 1))
    assert torch.equal(sample.pred_fused,
                       run['images']['fused'][0].clamp(0, 1))
