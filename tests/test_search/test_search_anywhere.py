"""Searching any mmdet / mmseg model: frozen parameters, frozen modules,
foreign default scopes and top-level data preprocessors."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData

from mmfusenas.search import BilevelSearchAlgorithm
from helpers.task_models import (distillation_neck,
                                 encoder_decoder, retinanet,
                                 seg_backbone)

# one intra-op thread: tiny tensors lose to threads on a shared CPU
pytestmark = pytest.mark.usefixtures('one_thread')

OPS = ['conv_1', 'conv_3', 'skip']


def neck_space():
    return distillation_neck(
        dict(type='DiffMixedOp', key='neck', candidates=OPS))


def detector(frozen_stages=-1):
    cfg = retinanet(neck=neck_space())
    cfg['_scope_'] = 'mmdet'
    cfg['backbone'].update(frozen_stages=frozen_stages)
    return cfg


def wrappers(algo):
    return OptimWrapperDict(
        weights=OptimWrapper(
            torch.optim.SGD(algo.weight_parameters(), lr=0.1)),
        arch=OptimWrapper(torch.optim.Adam(algo.arch_parameters(), lr=0.1)))


def det_batch(seed):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(64, 64),
            ori_shape=(64, 64),
            pad_shape=(64, 64),
            batch_input_shape=(64, 64),
            scale_factor=(1., 1.)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[8., 8., 40., 40.]]), labels=torch.tensor([1]))
    return dict(
        inputs=torch.rand(1, 3, 64, 64, generator=g),
        data_samples=[sample])


def params_of(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize('strategy',
                         ['IASStrategy', 'DartsFirstOrderStrategy'])
def test_frozen_stages_are_left_out_of_the_weight_level(strategy):
    # mmdet's default frozen_stages=1 used to fail with "BilevelProblem:
    # weight_params[...] must be a leaf tensor with requires_grad=True"
    torch.manual_seed(0)
    algo = BilevelSearchAlgorithm(
        architecture=detector(frozen_stages=1),
        strategy=dict(type=strategy),
        space_path='neck')
    backbone = algo.architecture.backbone
    frozen = [p for p in backbone.layer1.parameters()]
    assert frozen and not any(p.requires_grad for p in frozen)
    trainable = {id(p) for p in algo.trainable_weight_parameters()}
    assert not any(id(p) in trainable for p in frozen)
    assert id(backbone.layer2[0].conv1.weight) in trainable
    before = params_of(backbone.layer1)
    layer2 = backbone.layer2[0].conv1.weight.detach().clone()
    alpha = algo.arch_parameters()[0].detach().clone()
    log = algo.train_step(dict(train=det_batch(0), val=det_batch(1)),
                          wrappers(algo))
    assert log['hypergrad_norm'] > 0
    assert not torch.equal(alpha, algo.arch_parameters()[0])
    assert not torch.equal(layer2, backbone.layer2[0].conv1.weight)
    for k, v in params_of(backbone.layer1).items():
        if 'num_batches' not in k and 'running' not in k:
            assert torch.equal(v, before[k]), k


def test_frozen_modules_fix_a_whole_backbone_in_eval_mode():
    torch.manual_seed(0)
    algo = BilevelSearchAlgorithm(
        architecture=detector(),
        strategy=dict(type='DartsFirstOrderStrategy'),
        space_path='neck',
        frozen_modules=['backbone'])
    backbone = algo.architecture.backbone
    assert not any(p.requires_grad for p in backbone.parameters())
    weight_ids = {id(p) for p in algo.weight_parameters()}
    assert not any(id(p) in weight_ids for p in backbone.parameters())
    assert id(algo.architecture.neck.lateral_convs[0].conv.weight) in \
        weight_ids
    algo.train()
    assert algo.training and algo.architecture.neck.training
    assert not backbone.training and not backbone.bn1.training
    before = params_of(backbone)  # BN statistics included
    algo.train_step(dict(train=det_batch(0), val=det_batch(1)),
                    wrappers(algo))
    for k, v in params_of(backbone).items():
        assert torch.equal(v, before[k]), k

    with pytest.raises(ValueError, match="'backbone.nope' is not a sub"):
        BilevelSearchAlgorithm(
            architecture=detector(),
            strategy=dict(type='DartsFirstOrderStrategy'),
            space_path='neck',
            frozen_modules=['backbone.nope'])
    with pytest.raises(ValueError, match='holds choice points'):
        BilevelSearchAlgorithm(
            architecture=detector(),
            strategy=dict(type='DartsFirstOrderStrategy'),
            space_path='neck',
            frozen_modules=['neck'])


def seg_batch(seed):
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)
    sample = SegDataSample(metainfo=dict(img_shape=(64, 64),
                                         ori_shape=(64, 64)))
    sample.gt_sem_seg = PixelData(
        data=torch.randint(0, 5, (1, 64, 64), generator=g))
    return dict(
        inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8,
                              generator=g)],
        data_samples=[sample])


def test_decoder_search_on_an_mmseg_model_in_the_mmseg_scope():
    # an mmseg base config: default_scope='mmseg', a top-level
    # data_preprocessor that the runner passes to the outer model
    import mmseg.models  # noqa: F401  (registers SegDataPreProcessor)
    preprocessor = dict(
        type='SegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        size=(64, 64),
        seg_pad_val=255)
    head = dict(
        type='mmfusenas.SearchableDistillationHead',
        in_channels=[16, 32, 64],
        in_index=[1, 2, 3],
        channels=8,
        num_nodes=1,
        num_classes=5,
        edge_cfg=dict(type='DiffMixedOp', key='dec', candidates=OPS))
    arch = encoder_decoder(head, backbone=seg_backbone(dilated=False))
    arch.update(_scope_='mmseg', data_preprocessor=copy.deepcopy(preprocessor))
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        algo = BilevelSearchAlgorithm(
            architecture=arch,
            strategy=dict(type='DartsFirstOrderStrategy'),
            space_path='decode_head',
            data_preprocessor=dict(preprocessor, mean=[9., 9., 9.]))
        # the architecture's own preprocessor is used, not the injected one
        assert algo.data_preprocessor is algo.architecture.data_preprocessor
        assert algo.data_preprocessor.mean.flatten().tolist() == [0., 0., 0.]
        log = algo.train_step(dict(train=seg_batch(0), val=seg_batch(1)),
                              wrappers(algo))
    assert log['hypergrad_norm'] > 0 and 'decode.loss_ce' in log
