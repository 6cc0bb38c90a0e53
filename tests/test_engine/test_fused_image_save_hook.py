"""FusedImageSaveHook writes whichever image a prediction carries."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config

from mmfusenas.engine.hooks import FusedImageSaveHook
from mmfusenas.engine.hooks.fused_image_save_hook import prediction_image
from mmfusenas.registry import MODELS
from mmfusenas.structures import FusionDataSample
from helpers import load_tool
from mmfusenas.testing.toy_data.lowlight_tasks import generate_toy_exdark

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_prediction_image_fields(tmp_path):
    det = DetDataSample(metainfo=dict(img_path='/x/dark_01.jpg'))
    det.pred_img = torch.tensor([[[1.0]], [[0.5]], [[0.0]]])  # R, G, B
    np.testing.assert_array_equal(prediction_image(det),
                                  [[[0, 128, 255]]])  # BGR, half up
    np.testing.assert_array_equal(
        prediction_image(det, rounding='floor'), [[[0, 127, 255]]])
    fused = FusionDataSample(metainfo=dict(stem='a'))
    fused.pred_fused = torch.full((1, 1, 2), 0.2)
    fused.pred_fused_rgb = torch.zeros(3, 1, 2)
    assert prediction_image(fused).shape == (1, 2, 3)
    np.testing.assert_array_equal(prediction_image(fused, color=False),
                                  [[51, 51]])
    with pytest.raises(KeyError, match='carries no image'):
        prediction_image(DetDataSample(metainfo=dict(img_path='b.png')))
    hook = FusedImageSaveHook(out_dir=str(tmp_path))
    hook._save(str(tmp_path / 'out'), [det, fused])
    assert sorted(os.listdir(tmp_path / 'out')) == ['a.png', 'dark_01.png']


def test_test_tool_out_dir_for_a_scene_detector(tmp_path):
    """``tools/test.py --out-dir`` on configs/ruas/ssd_exdark_toy.py."""
    root = str(tmp_path / 'exdark')
    generate_toy_exdark(root, num_train=2, num_val=2, size=64, seed=1)
    config = osp.join(REPO, 'configs', 'ruas', 'ssd_exdark_toy.py')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    ckpt = str(tmp_path / 'ssd.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    test = load_tool('tools/test.py')
    out = str(tmp_path / 'enhanced')
    torch.set_num_threads(1)
    metrics = test.main([
        config, ckpt, '--work-dir',
        str(tmp_path / 'work'), '--out-dir', out, '--data-root', root
    ])
    assert 'pascal_voc/mAP' in metrics
    files = sorted(os.listdir(out))     # --out-dir D: D/<stem>.png
    assert len(files) == 2 and all(f.endswith('.png') for f in files)
    img = cv2.imread(osp.join(out, files[0]))
    assert img.shape == (300, 300, 3) or img.ndim == 3


def test_prediction_visualization_hook_and_tensorboard_switch(
        tmp_path, monkeypatch):
    """tools/test.py with PredictionVisualizationHook on the toy RetinaNet;
    the TensorBoard switch adds its backend (or says what to install)."""
    import importlib.util as util
    from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
    from mmfusenas.utils.config import enable_tensorboard
    root = str(tmp_path / 'toy')
    generate_toy_dataset(root, num=4, seed=3, size=64, val_fraction=0.5)
    config = osp.join(REPO, 'configs', 'tim', 'retinanet_ivif_toy.py')
    cfg = Config.fromfile(config)
    cfg.model.fusion_net.channels = 4
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'det.pth')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, ckpt)
    test = load_tool('tools/test.py')
    out = str(tmp_path / 'vis')
    user = tmp_path / 'vis_config.py'
    user.write_text(
        f'_base_ = {config!r}\n'
        'model = dict(fusion_net=dict(channels=4))\n'
        'custom_hooks = [dict(type="PredictionVisualizationHook", '
        f'max_samples=1, out_dir={out!r})]\n')
    torch.set_num_threads(1)
    test.main([
        str(user), ckpt, '--work-dir', str(tmp_path / 'work'), '--data-root',
        root, '--cfg-options', 'test_dataloader.batch_size=2'
    ])
    (iter_dir, ) = os.listdir(osp.join(out, 'vis_test'))
    (name, ) = os.listdir(osp.join(out, 'vis_test', iter_dir))
    img = cv2.imread(osp.join(out, 'vis_test', iter_dir, name))
    # ir | vi | prediction, 128-px panels under 14-px titles
    assert img.shape[0] == 142 and img.shape[1] >= 3 * 128

    cfg = Config.fromfile(config)
    if util.find_spec('tensorboard') is None:
        with pytest.raises(ImportError, match='pip install tensorboard'):
            enable_tensorboard(cfg)
        monkeypatch.setattr(util, 'find_spec', lambda name: object())
    enable_tensorboard(cfg)
    enable_tensorboard(cfg)  # idempotent
    assert [b['type'] for b in cfg.visualizer.vis_backends] == [
        'LocalVisBackend', 'TensorboardVisBackend']
