"""MultiSpectral detection configs (TIM Sec. 4.3.1, Table 4): the paper's
schedules, the five classes, the staged search, and the toy siblings in the
same layout."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmfusenas.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TIM = osp.join(REPO, 'configs', 'tim')
CLASSES = ('color_cone', 'car_stop', 'car', 'person', 'bike')


pytestmark = pytest.mark.usefixtures('one_thread')


def cfg_of(name):
    return Config.fromfile(osp.join(TIM, f'{name}.py'))


@pytest.mark.parametrize('name', [
    'retinanet_multispectral', 'retinanet_multispectral_toy',
    'search_retinanet_multispectral', 'search_retinanet_multispectral_toy'
])
def test_configs_build_with_the_five_classes(name):
    cfg = cfg_of(name)
    model = MODELS.build(cfg.model)
    det = getattr(model, 'architecture', model).detector
    assert det.bbox_head.num_classes == 5
    assert tuple(cfg.train_dataloader.dataset.metainfo.classes) == CLASSES
    root = cfg.train_dataloader.dataset.data_root
    assert root == ('data/toy_multispectral/'
                    if name.endswith('_toy') else 'data/MultiSpectral/')


def test_training_schedule_is_the_papers():
    cfg = cfg_of('retinanet_multispectral')
    # 160k steps, lr 2e-3, cosine annealing to 1e-8
    assert cfg.train_cfg.max_iters == 160000
    assert cfg.optim_wrapper.optimizer.lr == 2e-3
    (sched, ) = cfg.param_scheduler
    assert sched.type == 'CosineAnnealingLR' and sched.eta_min == 1e-8
    assert sched.T_max == 160000
    assert cfg.test_dataloader.dataset.ann_file == 'annotations/test.json'
    assert cfg.val_evaluator[0].classwise  # per-class AP as in Table 4
    # l_F with the weight-free gradient measure (the paper's VGG16 measure
    # is an option needing a local weight file)
    assert cfg.model.fusion_losses[0].measure == 'gradient'
    assert cfg_of('retinanet_multispectral_toy').model.fusion_losses[
        0].measure == 'gradient'
    retrain = cfg_of('retrain_retinanet_multispectral')
    assert retrain.model.detector.neck.type == 'mmfusenas.GenotypeNet'
    assert retrain.train_cfg.max_iters == 160000


def test_search_schedule_is_the_papers():
    cfg = cfg_of('search_retinanet_multispectral')
    # batch 1, architecture lr 3e-4, 120 search epochs after 40 fusion ones
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.train_cfg.arch_dataloader.batch_size == 1
    assert cfg.optim_wrapper.arch.optimizer.lr == 3e-4
    assert cfg.train_cfg.max_epochs == 160
    hooks = {h.type: h for h in cfg.custom_hooks}
    assert hooks['FusionWarmupHook'].warmup == 40
    assert hooks['FusionWarmupHook'].by_epoch
    assert [dict(s) for s in hooks['ArchScheduleHook'].stages] == [
        dict(begin=40, end=None)
    ]
    # alpha on the search_arch half, weights on search_weights
    assert cfg.train_dataloader.dataset.ann_file == \
        'annotations/search_weights.json'
    assert cfg.train_cfg.arch_dataloader.dataset.ann_file == \
        'annotations/search_arch.json'
    toy = cfg_of('search_retinanet_multispectral_toy')
    assert toy.train_dataloader.batch_size == 1
    assert {h.type for h in toy.custom_hooks} >= {
        'FusionWarmupHook', 'ArchScheduleHook', 'GenotypeExportHook'
    }
