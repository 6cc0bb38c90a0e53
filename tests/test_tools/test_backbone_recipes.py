"""Every documented recipe builds and runs one training step.

Backbone swaps (configs/tim/retinanet_{r50,mobilenetv2}_ivif[_toy].py), an
mmdet config as the task model (load_task_model_cfg) and an outside fusion
network registered through custom_imports (projects/custom_fusion_net: tested in
tests/test_projects/).
One step on a batch of the generated 64x64 toy data each.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from mmfusenas.registry import DATASETS, MODELS
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset
from mmfusenas.utils.config import load_task_model_cfg
from mmfusenas.utils.data_folders import reroot_data

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TIM = osp.join(REPO, 'configs', 'tim')
SIZE = 64


pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy') / 'toy')
    generate_toy_dataset(root, num=4, seed=3, size=SIZE, val_fraction=0.25)
    return root


def toy_batch(config, toy_root):
    """Two training samples of ``config``'s train pipeline at 64x64."""
    cfg = Config.fromfile(config)
    reroot_data(cfg, toy_root)
    dataset_cfg = cfg.train_dataloader.dataset
    for step in dataset_cfg.pipeline:
        if step['type'] in ('PairedResize', 'PairedRandomCrop'):
            step['scale' if 'scale' in step else 'crop_size'] = (SIZE, SIZE)
    dataset = DATASETS.build(dataset_cfg)
    return pseudo_collate([dataset[0], dataset[1]])


def one_step(model_cfg, batch):
    init_default_scope('mmfusenas')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    losses = model.train_step(batch, wrapper)
    assert losses and all(torch.isfinite(v).all() for v in losses.values())
    changed = [k for k, v in model.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, before[k])]
    assert changed
    return model, losses


@pytest.mark.parametrize('name', [
    'retinanet_r50_ivif_toy', 'retinanet_mobilenetv2_ivif_toy',
    'retinanet_r50_ivif', 'retinanet_mobilenetv2_ivif'
])
def test_backbone_recipes(name, toy_root):
    cfg = Config.fromfile(osp.join(TIM, f'{name}.py'))
    if not name.endswith('_toy'):
        cfg.model.fusion_net.channels = 8  # keep the full configs cheap
        # the real configs train weight-free by default
        assert all(loss.get('measure') != 'vgg'
                   for loss in cfg.model.fusion_losses)
    model, losses = one_step(
        cfg.model, toy_batch(osp.join(TIM, 'retinanet_ivif_toy.py'),
                             toy_root))
    assert {'loss_cls', 'loss_bbox'} <= set(losses)
    backbone = type(model.detector.backbone).__name__
    assert backbone == ('MobileNetV2' if 'mobilenet' in name else 'ResNet')


def test_mmdet_config_as_task_model(toy_root):
    cfg = Config.fromfile(osp.join(TIM, 'retinanet_ivif_toy.py'))
    det = load_task_model_cfg(
        'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py')
    assert 'data_preprocessor' not in det and det._scope_ == 'mmdet'
    det.backbone.init_cfg = None  # nothing is downloaded
    det.backbone.depth = 18  # a light backbone for the test
    det.neck.in_channels = [64, 128, 256, 512]
    det.bbox_head.num_classes = 4
    cfg.model.detector = det
    _, losses = one_step(cfg.model, toy_batch(
        osp.join(TIM, 'retinanet_ivif_toy.py'), toy_root))
    assert {'loss_cls', 'loss_bbox', 'loss_centerness'} <= set(losses)
