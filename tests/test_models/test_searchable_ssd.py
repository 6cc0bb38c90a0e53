"""Searchable SSD head and neck (RUAS detection task module), alone and in
a real mmdet SSD detector."""
import copy
import re

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope

from mmfusenas.models.dense_heads import SearchableSSDHead
from mmfusenas.models.mutables import (ArchParams, Genotype, bind_arch_params,
                                       derive_choices, fix_space_cfg,
                                       task_op_template)
from mmfusenas.models.necks import SearchableSSDNeck
from mmfusenas.registry import MODELS
from helpers.task_models import ssd_train_cfg

HEAD_IN = [8, 16, 8, 8]


def anchor_generator(input_size=64, strides=(16, 32, 64, 64)):
    return dict(
        type='SSDAnchorGenerator',
        scale_major=False,
        input_size=input_size,
        strides=list(strides),
        ratios=[[2], [2, 3], [2], [2]][:len(strides)],
        min_sizes=[16, 28, 40, 52][:len(strides)],
        max_sizes=[28, 40, 52, 64][:len(strides)])


def head_kwargs(in_channels=HEAD_IN, num_classes=3):
    return dict(
        in_channels=in_channels,
        num_classes=num_classes,
        anchor_generator=anchor_generator(),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2]))


def head_cfg(**kwargs):
    cfg = dict(type='mmfusenas.SearchableSSDHead', **head_kwargs())
    cfg.update(kwargs)
    return cfg


# SSD300's extra levels (mmdet configs/_base_/models/ssd300.py), small widths
SSD300_NECK = dict(
    in_channels=(8, 16),
    out_channels=(8, 16, 8, 8, 8, 8),
    level_strides=(2, 2, 1, 1),
    level_paddings=(1, 1, 0, 0),
    l2_norm_scale=20)


def neck_cfg(**kwargs):
    cfg = dict(type='mmfusenas.SearchableSSDNeck', **SSD300_NECK)
    cfg.update(kwargs)
    return cfg


def mmdet_build(cfg):
    from mmdet.registry import MODELS as DET_MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DET_MODELS.build(copy.deepcopy(cfg))


def head_feats(batch=2):
    return [
        torch.randn(batch, c, s, s)
        for c, s in zip(HEAD_IN, (4, 2, 1, 1))
    ]


def ssd300_feats(channels=(8, 16), batch=1):
    return [torch.randn(batch, channels[0], 38, 38),
            torch.randn(batch, channels[1], 19, 19)]


def strip_candidates(state):
    return {k.replace('.candidates.0', ''): v for k, v in state.items()}


# ------------------------------------------------------------------ head
def test_head_with_3x3_op_is_mmdet_ssd_head():
    torch.manual_seed(0)
    ref = mmdet_build(dict(type='SSDHead', **head_kwargs()))
    head = mmdet_build(head_cfg(op_cfg='3-C'))
    assert isinstance(head, SearchableSSDHead)
    # same layers, the 3x3 conv stored as <tower>.<last>.conv
    state = {
        k.replace('.0.conv.', '.0.'): v
        for k, v in head.state_dict().items()
    }
    assert {k: v.shape for k, v in state.items()} == \
        {k: v.shape for k, v in ref.state_dict().items()}
    head.load_state_dict({
        re.sub(r'^(\w+_convs\.\d+\.0)\.', r'\1.conv.', k): v
        for k, v in ref.state_dict().items()
    })
    feats = head_feats()
    with torch.no_grad():
        for a, b in zip(ref(feats), head(feats)):
            for x, y in zip(a, b):
                torch.testing.assert_close(x, y)
    # A_i (num_classes + 1) and 4 A_i channels
    assert [c.shape[1] for c in head(feats)[0]] == [16, 24, 16, 16]


def test_supernet_head_keys_and_shapes():
    torch.manual_seed(0)
    head = MODELS.build(head_cfg(op_cfg=task_op_template('det')))
    arch = ArchParams()
    keys = bind_arch_params(head, arch)
    assert keys == [f'det/cls{i}' for i in range(4)] + \
        [f'det/reg{i}' for i in range(4)]
    ref = mmdet_build(dict(type='SSDHead', **head_kwargs()))
    feats = head_feats()
    for a, b in zip(ref(feats), head(feats)):
        assert [x.shape for x in a] == [y.shape for y in b]
    assert head.cls_convs[1][0].candidates[9].conv.dilation == (18, 18)


def test_head_expand_op_cfg_and_explicit_ops():
    cfg = head_cfg(op_cfg=dict(
        type='DiffMixedOp', key='det', candidates=['1-C', '3-6-DC']))
    explicit = SearchableSSDHead.expand_op_cfg(cfg)
    assert 'op_cfg' not in explicit and cfg['op_cfg']['key'] == 'det'
    cls1 = explicit['ops']['cls'][1]
    assert cls1['key'] == 'det/cls1'
    # level 1 has 6 anchors (ratios [2, 3]): 6 * (3 + 1) outputs
    assert cls1['candidates']['3-6-DC'] == dict(
        type='RUASConv', kernel_size=3, dilation=6, out_channels=24,
        stride=1)
    assert explicit['ops']['reg'][1]['candidates']['1-C']['out_channels'] \
        == 24
    # the explicit space builds the same network, with the same keys
    torch.manual_seed(0)
    a = MODELS.build(cfg)
    torch.manual_seed(0)
    b = MODELS.build(explicit)
    assert bind_arch_params(a, ArchParams()) == \
        bind_arch_params(b, ArchParams())
    assert a.state_dict().keys() == b.state_dict().keys()
    # explicit op names are accepted too
    head = MODELS.build(
        head_cfg(ops=dict(cls=['3-C', '5-C', '1-C', '3-2-DC'],
                          reg=['7-C', '3-C', '3-12-DC', '1-C'])))
    assert head.reg_convs[0][0].conv.kernel_size == (7, 7)
    assert head.reg_convs[2][0].conv.out_channels == 16


def test_head_errors():
    with pytest.raises(ValueError, match='exactly one of `ops`'):
        MODELS.build(head_cfg())
    with pytest.raises(ValueError, match='exactly one of `ops`'):
        MODELS.build(head_cfg(op_cfg='3-C', ops=dict(cls=[], reg=[])))
    with pytest.raises(ValueError, match='unknown op name'):
        MODELS.build(head_cfg(op_cfg='9-C'))
    with pytest.raises(ValueError, match='residual RUASConv'):
        MODELS.build(head_cfg(op_cfg='3-RC'))
    with pytest.raises(ValueError, match=r"ops\['reg'\]` must list one spec "
                       r'per position \(4'):
        MODELS.build(head_cfg(ops=dict(cls=['3-C'] * 4, reg=['3-C'] * 3)))
    with pytest.raises(ValueError, match=r'dict\(cls=\[...\], reg=\[...\]\)'):
        MODELS.build(head_cfg(ops=['3-C'] * 8))
    with pytest.raises(ValueError, match='anchor generator has 4 levels'):
        MODELS.build(head_cfg(op_cfg='3-C', in_channels=[8, 8]))


# ------------------------------------------------------------------ neck
def test_neck_with_3x3_op_is_mmdet_ssd_neck_at_ssd300_sizes():
    torch.manual_seed(0)
    ref = mmdet_build(dict(type='SSDNeck', **SSD300_NECK))
    # mmdet's L2Norm weight is an uninitialised tensor until init_weights
    # (its init_cfg sets it to the scale, 20): without it the copied weight
    # is whatever memory held, at times NaN
    ref.init_weights()
    neck = mmdet_build(neck_cfg(op_cfg='3-C'))
    assert isinstance(neck, SearchableSSDNeck)
    state = {}
    for k, v in ref.state_dict().items():
        k = k.replace('.0.conv.', '.reduce.conv.').replace(
            '.1.conv.', '.op.conv.')
        state[k] = v
    neck.load_state_dict(state)
    feats = ssd300_feats()
    with torch.no_grad():
        outs, ref_outs = neck(feats), ref(feats)
    assert [o.shape[-1] for o in outs] == [38, 19, 10, 5, 3, 1]
    for a, b in zip(outs, ref_outs):
        torch.testing.assert_close(a, b)


def test_neck_full_ssd300_widths_sizes():
    neck = MODELS.build(
        neck_cfg(
            op_cfg='7-2-DC',
            in_channels=(512, 1024),
            out_channels=(512, 1024, 512, 256, 256, 256)))
    with torch.no_grad():
        outs = neck(ssd300_feats((512, 1024)))
    assert [tuple(o.shape[1:]) for o in outs] == [(512, 38, 38),
                                                  (1024, 19, 19),
                                                  (512, 10, 10), (256, 5, 5),
                                                  (256, 3, 3), (256, 1, 1)]


def test_supernet_neck_every_candidate_keeps_mmdet_sizes():
    torch.manual_seed(0)
    neck = MODELS.build(neck_cfg(op_cfg=task_op_template('neck')))
    arch = ArchParams()
    assert bind_arch_params(neck, arch) == [f'neck/extra{i}' for i in range(4)]
    layer = neck.extra_layers[0]
    x = torch.randn(1, 16, 19, 19)
    with torch.no_grad():
        mid = layer.reduce(x)
        # every candidate alone: C/2 -> C, stride 2
        assert {tuple(op(mid).shape) for op in layer.op.candidates} == \
            {(1, 8, 10, 10)}
        outs = neck(ssd300_feats())
    assert [o.shape[-1] for o in outs] == [38, 19, 10, 5, 3, 1]
    assert neck.extra_layers[2].op.candidates[0].conv.stride == (1, 1)
    assert neck.extra_layers[1].op.candidates[0].conv.stride == (2, 2)


def test_neck_valid_level_with_stride_two_matches_valid_conv():
    # padding 0 at stride 2: the 3x3 op gives mmdet's valid strided conv
    cfg = dict(
        in_channels=(4, ),
        out_channels=(4, 8),
        level_strides=(2, ),
        level_paddings=(0, ),
        l2_norm_scale=None)
    ref = mmdet_build(dict(type='SSDNeck', **cfg))
    neck = mmdet_build(dict(type='mmfusenas.SearchableSSDNeck', ops=['3-C'],
                            **cfg))
    neck.load_state_dict({
        k.replace('.0.conv.', '.reduce.conv.').replace('.1.conv.',
                                                       '.op.conv.'): v
        for k, v in ref.state_dict().items()
    })
    for size in (7, 8):
        x = [torch.randn(1, 4, size, size)]
        with torch.no_grad():
            torch.testing.assert_close(neck(x)[1], ref(x)[1])


def test_neck_l2_norm_scale_set_at_construction():
    # mmdet's L2Norm weight is uninitialised memory until init_weights; the
    # neck sets it to the scale when built, so that a network used without
    # init_weights (a supernet copied into its fixed network, a test) is
    # deterministic
    for _ in range(3):
        neck = SearchableSSDNeck(op_cfg='3-C', **SSD300_NECK)
        assert torch.equal(neck.l2_norm.weight.detach(),
                           torch.full_like(neck.l2_norm.weight, 20.0))
    neck.init_weights()
    assert torch.equal(neck.l2_norm.weight.detach(),
                       torch.full_like(neck.l2_norm.weight, 20.0))


def test_neck_errors():
    with pytest.raises(ValueError, match='exactly one of `ops`'):
        SearchableSSDNeck(**SSD300_NECK)
    with pytest.raises(ValueError, match='one spec per position'):
        SearchableSSDNeck(ops=['3-C'] * 3, **SSD300_NECK)
    with pytest.raises(ValueError, match='unknown op name'):
        SearchableSSDNeck(op_cfg='3-3-DC', **SSD300_NECK)
    with pytest.raises(ValueError, match='residual RUASConv'):
        SearchableSSDNeck(op_cfg='1-RC', **SSD300_NECK)
    bad = dict(SSD300_NECK, level_paddings=(1, 1, 0, 2))
    with pytest.raises(ValueError, match='level_paddings must be 0 or 1'):
        SearchableSSDNeck(op_cfg='3-C', **bad)
    bad = dict(SSD300_NECK, out_channels=(8, 32, 8, 8, 8, 8))
    with pytest.raises(ValueError, match='must start with in_channels'):
        SearchableSSDNeck(op_cfg='3-C', **bad)
    neck = SearchableSSDNeck(op_cfg='3-C', **SSD300_NECK)
    with pytest.raises(ValueError, match='at least 3x3'):
        neck([torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4)])


# ------------------------------------------------- genotype round trip
def one_candidate_space(cfg, expand, picks):
    """The explicit space with a single candidate per position."""
    space = expand(cfg)
    specs = (space['ops']['cls'] + space['ops']['reg'] if isinstance(
        space['ops'], dict) else space['ops'])
    for i, spec in enumerate(specs):
        name = picks[i % len(picks)]
        spec['candidates'] = {name: spec['candidates'][name]}
    return space


@pytest.mark.parametrize('kind', ['head', 'neck'])
def test_one_candidate_space_rebuilds_the_fixed_network(kind, tmp_path):
    torch.manual_seed(0)
    if kind == 'head':
        cfg = head_cfg(op_cfg=task_op_template('det'))
        expand, feats = SearchableSSDHead.expand_op_cfg, head_feats()
    else:
        cfg = neck_cfg(op_cfg=task_op_template('neck'))
        expand, feats = SearchableSSDNeck.expand_op_cfg, ssd300_feats()
    picks = ['3-18-DC', '5-C', '1-C', '7-2-DC', '3-6-DC']
    space = one_candidate_space(cfg, expand, picks)
    supernet = MODELS.build(space)
    bind_arch_params(supernet, ArchParams())
    choices = derive_choices(supernet)
    fixed_cfg = fix_space_cfg(space, choices)
    key = 'det/cls1' if kind == 'head' else 'neck/extra1'
    assert choices[key] == picks[1]
    geno = Genotype.from_space(space, choices)
    assert geno.network == fixed_cfg
    path = str(tmp_path / f'{kind}.yaml')
    geno.dump(path)
    fixed = MODELS.build(dict(type='GenotypeNet', genotype=path, space=space))
    assert type(fixed) is type(supernet)
    fixed.load_state_dict(strip_candidates(supernet.state_dict()))
    supernet.eval(), fixed.eval()
    with torch.no_grad():
        out_a, out_b = supernet(feats), fixed(feats)
    flat = (lambda o: [t for level in o for t in level]) if kind == 'head' \
        else list
    for a, b in zip(flat(out_a), flat(out_b)):
        torch.testing.assert_close(a, b)
    # the same structure as building the chosen ops directly
    direct = MODELS.build(fixed_cfg)
    assert [type(m) for m in direct.modules()] == \
        [type(m) for m in fixed.modules()]


# ------------------------------------------------------ full mmdet SSD
def ssd_cfg(neck_op_cfg, head_op_cfg):
    return dict(
        type='SingleStageDetector',
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[0., 0., 0.],
            std=[255., 255., 255.],
            pad_size_divisor=1),
        # tiny ResNet-18: stages 8, 16, 32, 64 channels; C4, C5 at 1/16, 1/32
        backbone=dict(
            type='ResNet',
            depth=18,
            base_channels=8,
            num_stages=4,
            out_indices=(2, 3),
            norm_cfg=dict(type='BN'),
            init_cfg=None),
        neck=dict(
            type='mmfusenas.SearchableSSDNeck',
            in_channels=(32, 64),
            out_channels=(32, 64, 32, 32),
            level_strides=(2, 2),
            level_paddings=(1, 1),
            l2_norm_scale=20,
            op_cfg=neck_op_cfg),
        bbox_head=dict(
            type='mmfusenas.SearchableSSDHead',
            op_cfg=head_op_cfg,
            in_channels=(32, 64, 32, 32),
            num_classes=3,
            anchor_generator=dict(
                type='SSDAnchorGenerator',
                scale_major=False,
                input_size=64,
                strides=[16, 32, 64, 64],
                ratios=[[2], [2], [2], [2]],
                min_sizes=[16, 28, 40, 52],
                max_sizes=[28, 40, 52, 64]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[0.1, 0.1, 0.2, 0.2])),
        train_cfg=ssd_train_cfg(),
        # a ConfigDict, as from a config file (predict reads attributes)
        test_cfg=ConfigDict(
            nms_pre=100,
            nms=dict(type='nms', iou_threshold=0.45),
            min_bbox_size=0,
            score_thr=0.0,
            max_per_img=10))


def det_batch(det, size=64):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    # one box matching the anchors of each level (centres 8 + 16k at 1/16,
    # 16 + 32k at 1/32, 32 at 1/64; sizes 16, 28, 40, 54): every level has
    # positives, so every prediction conv gets a gradient
    boxes = torch.tensor([[0., 0., 16., 16.], [2., 2., 30., 30.],
                          [12., 12., 52., 52.], [5., 5., 59., 59.]])
    samples = []
    for flip in (False, True):
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                scale_factor=(1., 1.)))
        b = boxes.clone()
        if flip:
            b[:, [0, 2]] = size - boxes[:, [2, 0]]
        sample.gt_instances = InstanceData(
            bboxes=b, labels=torch.tensor([0, 1, 2, 1]))
        samples.append(sample)
    data = dict(
        inputs=[
            torch.randint(0, 255, (3, size, size), dtype=torch.uint8)
            for _ in samples
        ],
        data_samples=samples)
    return det.data_preprocessor(data, True)


def test_searchable_ssd_detector_loss_alpha_grads_and_predict():
    from mmdet.models.detectors import SingleStageDetector
    torch.manual_seed(0)
    det = mmdet_build(
        ssd_cfg(task_op_template('neck'), task_op_template('det')))
    assert isinstance(det, SingleStageDetector)
    assert isinstance(det.neck, SearchableSSDNeck)
    assert isinstance(det.bbox_head, SearchableSSDHead)
    det.init_weights()
    arch = ArchParams()
    keys = bind_arch_params(det, arch)
    assert keys == ['neck/extra0', 'neck/extra1'] + \
        [f'det/{b}{i}' for b in ('cls', 'reg') for i in range(4)]
    # the network's parameters hold no alpha
    assert not {id(p) for p in arch.parameters()} & \
        {id(p) for p in det.parameters()}
    data = det_batch(det)
    feats = det.extract_feat(data['inputs'])
    assert [tuple(f.shape[1:]) for f in feats] == [(32, 4, 4), (64, 2, 2),
                                                   (32, 1, 1), (32, 1, 1)]
    losses = det(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'loss_bbox'}
    total = sum(sum(v) for v in losses.values())
    assert torch.isfinite(total)
    total.backward()
    for key in keys:
        grad = arch.alphas[key].grad
        assert grad is not None and torch.isfinite(grad).all()
        assert grad.abs().sum() > 0, key
    det.eval()
    with torch.no_grad():
        results = det(**det_batch(det), mode='predict')
    assert len(results) == 2
    for res in results:
        boxes = res.pred_instances.bboxes
        assert boxes.ndim == 2 and boxes.shape[1] == 4 and len(boxes) > 0
        assert len(res.pred_instances.scores) == len(boxes)
