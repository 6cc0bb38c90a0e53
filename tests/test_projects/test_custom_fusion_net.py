"""projects/custom_fusion_net: a fusion network from outside the package,
registered through ``custom_imports`` and trained behind a real RetinaNet."""
import glob
import importlib.util
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from mmfusenas.registry import MODELS
from mmfusenas.testing.toy_data.ivif import generate_toy_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(REPO, 'projects', 'custom_fusion_net')
CONFIG = osp.join(PROJECT, 'configs', 'gated_fusion_retinanet_toy.py')
SIZE = 64


@pytest.fixture(autouse=True, scope='module')
def project_on_path():
    """What ``PYTHONPATH=projects/custom_fusion_net`` does for a user."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    sys.path.insert(0, PROJECT)
    yield
    sys.path.remove(PROJECT)
    torch.set_num_threads(threads)


def test_config_imports_the_project_and_builds_its_network():
    cfg = Config.fromfile(CONFIG)
    assert cfg.custom_imports.imports == ['custom_fusion_net']
    from custom_fusion_net import GatedFusionNet
    # the base config's options are dropped (_delete_), the project's kept
    assert cfg.model.fusion_net == dict(
        type='GatedFusionNet', in_channels=2, channels=8)
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'FusionDetector'
    assert isinstance(model.fusion_net, GatedFusionNet)
    # the gate starts at zero: the fused image is the mean of the sources
    x = torch.rand(2, 2, 16, 16)
    torch.testing.assert_close(
        model.fusion_net(x), x.mean(dim=1, keepdim=True))
    # a per-pixel convex combination: inside the sources' range
    with torch.no_grad():
        model.fusion_net.gate.weight.normal_()
    y = model.fusion_net(x)
    assert (y >= x.min(1, keepdim=True)[0] - 1e-6).all()
    assert (y <= x.max(1, keepdim=True)[0] + 1e-6).all()
    with pytest.raises(ValueError, match=r'\(N, 2, H, W\)'):
        model.fusion_net(torch.rand(1, 3, 8, 8))


def test_project_job_trains_and_validates(tmp_path):
    root = str(tmp_path / 'toy')
    generate_toy_dataset(root, num=8, seed=3, size=SIZE, val_fraction=0.25)
    spec = importlib.util.spec_from_file_location(
        'tool_train_project', osp.join(REPO, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    work = str(tmp_path / 'work')
    opts = ['train_dataloader.batch_size=2',
            f'train_dataloader.dataset.data_root={root}',
            f'train_dataloader.dataset.pipeline.2.scale=[{SIZE},{SIZE}]',
            f'val_dataloader.dataset.data_root={root}',
            f'val_dataloader.dataset.pipeline.1.scale=[{SIZE},{SIZE}]',
            f'val_evaluator.0.ann_file={root}/annotations/instances_val.json',
            'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1', 'log_processor.window_size=1',
            'custom_hooks.0.warmup=1', 'model.detector.test_cfg.score_thr=0.0']
    train.main([CONFIG, '--work-dir', work, '--cfg-options'] + opts)
    state = torch.load(osp.join(work, 'iter_2.pth'))['state_dict']
    assert {'fusion_net.gate.weight', 'fusion_net.features.0.weight'} <= \
        set(state)
    (path, ) = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        records = [json.loads(line) for line in f]
    losses = {r['iter']: r for r in records if 'loss' in r}
    # iteration 1: fusion warm-up (l_F only); iteration 2: l_T + eta * l_F
    assert 'loss_cls' not in losses[1] and 'loss_cls' in losses[2]
    (val, ) = [r for r in records if 'coco/bbox_mAP' in r]
    assert 'fusion/SSIM' in val
