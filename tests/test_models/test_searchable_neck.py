"""The searchable distillation neck, alone and inside mmdet detectors."""
import pytest
import torch
from mmengine.registry import DefaultScope

from mmfusenas.models.mutables import expand_edge_templates
from mmfusenas.models.mutables import (ArchParams, Genotype, bind_arch_params,
                                       derive_choices)
from mmfusenas.models.necks import SearchableDistillationNeck
from mmfusenas.models.ops import TASK_OP_NAMES
from mmfusenas.registry import MODELS
from helpers.task_models import ssd_train_cfg

R18_CHANNELS = [64, 128, 256, 512]


def neck_cfg(edge_cfg, channels=16, num_outs=5, **kwargs):
    return dict(
        type='mmfusenas.SearchableDistillationNeck',
        in_channels=R18_CHANNELS,
        out_channels=channels,
        num_outs=num_outs,
        edge_cfg=edge_cfg,
        **kwargs)


def backbone_r18():
    return dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN'),
        init_cfg=None)


def retinanet_cfg(neck, channels=16):
    return dict(
        type='RetinaNet',
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            pad_size_divisor=32),
        backbone=backbone_r18(),
        neck=neck,
        bbox_head=dict(
            type='RetinaHead',
            num_classes=4,
            in_channels=channels,
            stacked_convs=1,
            feat_channels=channels,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=4,
                scales_per_octave=3,
                ratios=[0.5, 1.0, 2.0],
                strides=[4, 8, 16, 32, 64]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[1., 1., 1., 1.]),
            loss_cls=dict(
                type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25),
            loss_bbox=dict(type='L1Loss')),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=dict(
            nms_pre=100,
            min_bbox_size=0,
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=10))


def ssd_cfg(neck, channels=16):
    # the neck stands in for SSDNeck: SSDHead gets one in_channels entry
    # and one anchor level per neck output
    return dict(
        type='SingleStageDetector',
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            pad_size_divisor=1),
        backbone=backbone_r18(),
        neck=neck,
        bbox_head=dict(
            type='SSDHead',
            in_channels=[channels] * 5,
            num_classes=4,
            anchor_generator=dict(
                type='SSDAnchorGenerator',
                scale_major=False,
                input_size=64,
                strides=[8, 16, 32, 64, 64],
                ratios=[[2], [2, 3], [2, 3], [2], [2]],
                min_sizes=[8, 16, 28, 40, 52],
                max_sizes=[16, 28, 40, 52, 64]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[0.1, 0.1, 0.2, 0.2])),
        train_cfg=ssd_train_cfg(),
        test_cfg=dict(
            nms_pre=100,
            nms=dict(type='nms', iou_threshold=0.45),
            min_bbox_size=0,
            score_thr=0.02,
            max_per_img=10))


def build_detector(cfg):
    from mmdet.registry import MODELS as DET_MODELS
    from mmengine.config import ConfigDict
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DET_MODELS.build(ConfigDict(cfg))


def det_batch(det, size=64):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(size, size),
            ori_shape=(size, size),
            pad_shape=(size, size)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[8., 8., 40., 40.]]), labels=torch.tensor([2]))
    data = dict(
        inputs=[torch.randint(0, 255, (3, size, size), dtype=torch.uint8)],
        data_samples=[sample])
    return det.data_preprocessor(data, True)


def total_loss(losses):
    return sum(
        sum(v) if isinstance(v, list) else v for k, v in losses.items()
        if 'loss' in k)


def features(channels=(8, 12, 16, 20), size=32, batch=1):
    return [
        torch.randn(batch, c, size // 2**i, size // 2**i)
        for i, c in enumerate(channels)
    ]


@pytest.mark.parametrize(
    'extra,expected',
    [
        # two extra 3x3 convs (with bias); 'on_input': the first on x_3
        ('on_input', (9 * 20 * 8 + 8) + (9 * 8 * 8 + 8)),
        ('on_output', 2 * (9 * 8 * 8 + 8)),
        (False, 0),
    ])
def test_levels_channels_and_extra_levels(extra, expected):
    neck = SearchableDistillationNeck([8, 12, 16, 20],
                                      8,
                                      num_outs=6,
                                      edge_cfg='conv_1',
                                      add_extra_convs=extra)
    outs = neck(features())
    # every backbone level gets an output (FPN's start_level=0), then
    # halving extras
    assert [o.shape[-1] for o in outs] == [32, 16, 8, 4, 2, 1]
    assert neck.out_strides == [4, 8, 16, 32, 64, 128]
    assert all(o.shape[:2] == (1, 8) for o in outs)
    assert sum(p.numel() for p in neck.extra_convs.parameters()) == expected
    # 3 top-down + 3 bottom-up cells
    assert len(neck.cells) == 6 and all(
        len(cell.edges) == 10 for cell in neck.cells)


@pytest.mark.parametrize('start_level,sizes,strides', [
    (0, [32, 16, 8, 4], [4, 8, 16, 32]),
    (1, [16, 8, 4, 2], [8, 16, 32, 64]),
])
def test_start_level_and_head_stride_check(start_level, sizes, strides):
    neck = SearchableDistillationNeck([8, 12, 16, 20],
                                      8,
                                      num_outs=4,
                                      start_level=start_level,
                                      num_nodes=1,
                                      edge_cfg='conv_1',
                                      strides=strides)
    assert neck.out_strides == strides
    assert len(neck.cells) == 2 * (3 - start_level)
    assert [o.shape[-1] for o in neck(features())] == sizes
    # the toy RetinaNet's anchors start at stride 4: a neck starting at
    # level 1 (stride 8) must not silently feed them
    with pytest.raises(ValueError, match=r'head expects strides \[4, 8, 16, '
                       r'32\] but the neck outputs levels at strides '
                       r'\[8, 16, 32, 64\]'):
        SearchableDistillationNeck([8, 12, 16, 20],
                                   8,
                                   num_outs=4,
                                   start_level=1,
                                   edge_cfg='conv_1',
                                   strides=[4, 8, 16, 32])
    # custom backbone strides (e.g. a stride-8 first level)
    neck = SearchableDistillationNeck([8, 12, 16, 20],
                                      8,
                                      num_outs=5,
                                      edge_cfg='conv_1',
                                      in_strides=[8, 16, 32, 64])
    assert neck.out_strides == [8, 16, 32, 64, 128]


def grad_reach(neck, feats):
    """reach[o][i]: output o has a non-zero gradient w.r.t. input i."""
    feats = [f.clone().requires_grad_(True) for f in feats]
    outs = neck(feats)
    reach = []
    for out in outs:
        grads = torch.autograd.grad(
            out.square().sum(), feats, retain_graph=True, allow_unused=True)
        reach.append(
            [g is not None and bool(g.abs().sum() > 0) for g in grads])
    return reach


def test_every_output_sees_every_backbone_level():
    torch.manual_seed(0)
    neck = SearchableDistillationNeck([8, 12, 16, 20],
                                      8,
                                      num_outs=5,
                                      num_nodes=2,
                                      edge_cfg='conv_3')
    reach = grad_reach(neck, features())
    # 4 fused levels + 1 extra ('on_input': conv on x_3 only)
    assert reach[:4] == [[True] * 4] * 4
    assert reach[4] == [False, False, False, True]


def test_top_down_bottom_up_fusion_by_hand():
    torch.manual_seed(0)
    neck = SearchableDistillationNeck([8, 12, 16],
                                      8,
                                      num_outs=3,
                                      num_nodes=1,
                                      edge_cfg='conv_3').eval()
    feats = features((8, 12, 16))
    with torch.no_grad():
        outs = neck(feats)
        l0, l1, l2 = (conv(x)
                      for conv, x in zip(neck.lateral_convs, feats))

        def fuse(k, a, b):
            p = neck.fuse_convs[k](torch.cat((a, b), 1))
            return p + neck.cells[k](p)

        def resize(x, ref):
            return torch.nn.functional.interpolate(
                x, size=ref.shape[-2:], mode='bilinear', align_corners=False)

        t1 = fuse(0, l1, resize(l2, l1))
        t0 = fuse(1, l0, resize(t1, l0))
        b1 = fuse(2, t1, resize(t0, t1))
        b2 = fuse(3, l2, resize(b1, l2))
    for got, want in zip(outs, (t0, b1, b2)):
        torch.testing.assert_close(got, want)


def test_supernet_neck_in_retinanet_trains_and_reaches_every_alpha():
    torch.manual_seed(0)
    space = neck_cfg(
        dict(type='DiffMixedOp', key='neck', candidates=list(TASK_OP_NAMES)))
    det = build_detector(retinanet_cfg(space))
    assert isinstance(det.neck, SearchableDistillationNeck)
    arch = ArchParams()
    keys = bind_arch_params(det.neck, arch)
    assert keys == [
        f'neck/cell{c}/edge{e}' for c in range(6) for e in range(10)
    ]
    data = det_batch(det)
    losses = det(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'loss_bbox'}
    total_loss(losses).backward()
    assert all(arch.alphas[k].grad.abs().sum() > 0 for k in keys)
    feats = det.extract_feat(data['inputs'])
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2, 1]


def test_neck_in_ssd_trains_a_step():
    torch.manual_seed(0)
    det = build_detector(
        ssd_cfg(
            neck_cfg(
                'dil_conv_3_2',
                num_nodes=2,
                start_level=1,
                strides=[8, 16, 32, 64, 128])))
    data = det_batch(det)
    losses = det(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'loss_bbox'}
    total_loss(losses).backward()
    assert det.neck.cells[0].edges[0].conv.weight.grad.abs().sum() > 0
    # SSDHead gets one level per neck output, all with C channels
    feats = det.extract_feat(data['inputs'])
    assert [tuple(f.shape[1:]) for f in feats] == [(16, 8, 8), (16, 4, 4),
                                                   (16, 2, 2), (16, 1, 1),
                                                   (16, 1, 1)]


def test_one_candidate_space_rebuilds_the_fixed_neck(tmp_path):
    torch.manual_seed(0)
    picks = ['conv_3', 'res_conv_5', 'dil_conv_3_2', 'skip']
    # one candidate per edge (cycling through picks): the supernet computes
    # exactly the fixed neck
    space = expand_edge_templates(
        neck_cfg(
            dict(type='DiffMixedOp', key='n', candidates=['x']), num_nodes=2))
    for c, cell_ops in enumerate(space['ops']):
        for e, op in enumerate(cell_ops):
            op['candidates'] = [picks[(c + e) % len(picks)]]
    supernet = MODELS.build(space)
    bind_arch_params(supernet, ArchParams())
    choices = derive_choices(supernet)
    geno = Genotype.from_space(space, choices)
    assert geno.network['ops'][1] == ['res_conv_5', 'dil_conv_3_2', 'skip']
    path = str(tmp_path / 'neck.yaml')
    geno.dump(path)
    fixed = MODELS.build(dict(type='GenotypeNet', genotype=path, space=space))
    fixed.load_state_dict({
        k.replace('.candidates.0', ''): v
        for k, v in supernet.state_dict().items()
    })
    supernet.eval(), fixed.eval()
    feats = [
        torch.randn(1, c, 16 // 2**i, 16 // 2**i)
        for i, c in enumerate(R18_CHANNELS)
    ]
    with torch.no_grad():
        for a, b in zip(supernet(feats), fixed(feats)):
            torch.testing.assert_close(a, b)
    # and the genotype file plugs into a detector config as its neck
    det = build_detector(
        retinanet_cfg(dict(type='mmfusenas.GenotypeNet', genotype=path)))
    assert isinstance(det.neck, SearchableDistillationNeck)
    assert [type(e) for e in det.neck.modules()] == \
        [type(e) for e in fixed.modules()]


def test_neck_config_errors():
    with pytest.raises(ValueError, match='in_channels must list >= 2'):
        SearchableDistillationNeck([64], 8, num_outs=1, edge_cfg='skip')
    with pytest.raises(ValueError, match=r'num_outs \(3\) must be >= the 4'):
        SearchableDistillationNeck(R18_CHANNELS, 8, 3, edge_cfg='skip')
    with pytest.raises(ValueError, match='must select >= 2 of the 4'):
        SearchableDistillationNeck(
            R18_CHANNELS, 8, 5, start_level=3, edge_cfg='skip')
    with pytest.raises(ValueError, match='one stride per backbone level'):
        SearchableDistillationNeck(
            R18_CHANNELS, 8, 5, edge_cfg='skip', in_strides=[4, 8])
    with pytest.raises(ValueError, match='add_extra_convs must be False'):
        SearchableDistillationNeck(
            R18_CHANNELS, 8, 5, edge_cfg='skip', add_extra_convs=True)
    with pytest.raises(ValueError, match='num_nodes must be an int >= 1'):
        SearchableDistillationNeck(
            R18_CHANNELS, 8, 5, num_nodes=0, edge_cfg='skip')
    with pytest.raises(ValueError, match='each of the 6 cells'):
        SearchableDistillationNeck(R18_CHANNELS, 8, 5, ops=[['skip'] * 10])
    with pytest.raises(ValueError, match='exactly one of `ops`'):
        SearchableDistillationNeck(R18_CHANNELS, 8, 5)
    neck = SearchableDistillationNeck([8, 12, 16, 20], 8, 4, edge_cfg='skip')
    with pytest.raises(ValueError, match='expects 4 backbone levels'):
        neck(features()[1:])
    with pytest.raises(RuntimeError):  # torch names the channel mismatch
        neck(features((8, 13, 16, 20)))


def masked_det_batch(det, size=64):
    data = det_batch(det, size)
    from mmdet.structures.mask import BitmapMasks
    masks = torch.zeros(1, size, size, dtype=torch.bool)
    masks[0, 8:40, 8:40] = True
    data['data_samples'][0].gt_instances.masks = BitmapMasks(
        masks.numpy(), size, size)
    return data


@pytest.mark.parametrize('kind', ['faster_rcnn', 'fcos', 'mask_rcnn'])
@pytest.mark.parametrize('searchable', [True, False])
def test_neck_in_other_mmdet_detectors_trains_a_step(kind, searchable):
    from helpers import task_models
    torch.manual_seed(0)
    edge = dict(type='DiffMixedOp', key='neck',
                candidates=['conv_3', 'skip']) if searchable else 'conv_3'
    cfg = getattr(task_models, kind)(neck=task_models.distillation_neck(edge))
    cfg['data_preprocessor'] = dict(
        type='DetDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        pad_size_divisor=32)
    det = build_detector(cfg)
    if searchable:
        arch = ArchParams()
        keys = bind_arch_params(det.neck, arch)
        assert len(keys) == 6
    data = masked_det_batch(det)
    data['data_samples'][0].set_metainfo(dict(scale_factor=(1.0, 1.0)))
    det.train()
    losses = det(**data, mode='loss')
    expected = {
        'faster_rcnn': {'loss_rpn_cls', 'loss_cls', 'loss_bbox'},
        'fcos': {'loss_cls', 'loss_bbox', 'loss_centerness'},
        'mask_rcnn': {'loss_rpn_cls', 'loss_cls', 'loss_mask'},
    }[kind]
    assert expected <= set(losses)
    total_loss(losses).backward()
    # the top-down cells and every lateral get a gradient (each output sees
    # every backbone level; a coarse bottom-up cell may get none when no
    # anchor / RoI of its level is sampled)
    assert all(cell.reduce.weight.grad.abs().sum() > 0
               for cell in det.neck.cells[:3])
    assert all(lat.conv.weight.grad.abs().sum() > 0
               for lat in det.neck.lateral_convs)
    if searchable:
        assert all(arch.alphas[k].grad.abs().sum() > 0 for k in keys)
    det.eval()
    with torch.no_grad():
        (pred, ) = det.predict(data['inputs'], data['data_samples'])
    assert len(pred.pred_instances) > 0
    if kind == 'mask_rcnn':
        assert pred.pred_instances.masks.shape[-2:] == (64, 64)
