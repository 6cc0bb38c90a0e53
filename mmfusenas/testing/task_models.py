"""Small mmdet / mmseg model configs for tests and benchmarks.

Tiny widths, no pretrained weights, nothing downloaded: a ResNet at 8 base
channels, RetinaNet / SSD detectors and EncoderDecoder segmentors with FCN /
ASPP / DeepLabV3+ heads, at ``SIZE`` x ``SIZE`` inputs. Each function returns
a fresh config dict (``_scope_`` not set: wrap in a compound model or build
under the mmdet / mmseg scope).
"""

SIZE = 64


def resnet(depth=18, out_indices=(0, 1, 2, 3), **kwargs):
    return dict(
        type='ResNet',
        depth=depth,
        base_channels=8,
        out_indices=out_indices,
        norm_cfg=dict(type='BN'),
        init_cfg=None,
        **kwargs)


BACKBONES = {
    # name: (backbone, channels of the 4 (or 3) levels)
    'r18': (resnet(18), [8, 16, 32, 64]),
    'r50': (resnet(50), [32, 64, 128, 256]),
    'mobilenetv2': (dict(
        type='MobileNetV2',
        widen_factor=0.25,
        out_indices=(1, 2, 4, 6),
        init_cfg=None), [8, 8, 24, 80]),
}


def retina_head(in_channels=16, strides=(8, 16, 32, 64)):
    return dict(
        type='RetinaHead',
        num_classes=4,
        in_channels=in_channels,
        stacked_convs=1,
        feat_channels=16,
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=2,
            scales_per_octave=1,
            ratios=[1.0],
            strides=list(strides)),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0.] * 4,
            target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25),
        loss_bbox=dict(type='L1Loss'))


RETINA_TRAIN = dict(
    assigner=dict(
        type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
        min_pos_iou=0),
    sampler=dict(type='PseudoSampler'),
    allowed_border=-1,
    pos_weight=-1,
    debug=False)
RETINA_TEST = dict(
    nms_pre=100,
    min_bbox_size=0,
    score_thr=0.0,
    nms=dict(type='nms', iou_threshold=0.5),
    max_per_img=10)


def retinanet(backbone='r18', neck=None):
    bb, channels = BACKBONES[backbone]
    if neck is None:
        neck = dict(
            type='FPN',
            in_channels=channels,
            out_channels=16,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4)
    # FPN and the distillation neck (start_level=0, num_outs=4) both emit
    # the strides of the 4 backbone levels
    strides = (4, 8, 16, 32)
    return dict(
        type='RetinaNet',
        backbone=bb,
        neck=neck,
        bbox_head=retina_head(16, strides),
        train_cfg=RETINA_TRAIN,
        test_cfg=RETINA_TEST)


def ssd_train_cfg():
    """mmdet SSD300's ``train_cfg`` (hard-negative mining 3:1)."""
    return dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.,
            ignore_iof_thr=-1,
            gt_max_assign_all=False),
        sampler=dict(type='PseudoSampler'),
        smoothl1_beta=1.,
        allowed_border=-1,
        pos_weight=-1,
        neg_pos_ratio=3,
        debug=False)


def ssd(neck=None):
    if neck is None:
        neck = dict(
            type='SSDNeck',
            in_channels=(16, 32, 64),
            out_channels=(16, 32, 64, 16, 16),
            level_strides=(2, 2),
            level_paddings=(1, 1))
        levels = [16, 32, 64, 16, 16]
    else:
        levels = [16] * 5
    return dict(
        type='SingleStageDetector',
        backbone=resnet(18, out_indices=(1, 2, 3)) if neck['type'] ==
        'SSDNeck' else resnet(18),
        neck=neck,
        bbox_head=dict(
            type='mmfusenas.CompatSSDHead',
            in_channels=levels,
            num_classes=4,
            anchor_generator=dict(
                type='SSDAnchorGenerator',
                scale_major=False,
                input_size=SIZE,
                strides=[8, 16, 32, 64, 64],
                ratios=[[2], [2, 3], [2, 3], [2], [2]],
                min_sizes=[8, 16, 28, 40, 52],
                max_sizes=[16, 28, 40, 52, 64]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0] * 4,
                target_stds=[0.1, 0.1, 0.2, 0.2])),
        train_cfg=ssd_train_cfg(),
        test_cfg=dict(
            nms_pre=100,
            nms=dict(type='nms', iou_threshold=0.45),
            min_bbox_size=0,
            score_thr=0.0,
            max_per_img=10))


def seg_backbone(dilated=True, depth=18):
    if depth == 'mobilenetv2':
        return dict(
            type='MobileNetV2',
            widen_factor=0.25,
            strides=(1, 2, 2, 1, 1, 1, 1),
            dilations=(1, 1, 1, 2, 2, 4, 4),
            out_indices=(1, 2, 4, 6),
            init_cfg=None)
    return dict(
        type='ResNetV1c',
        depth=depth,
        stem_channels=8,
        base_channels=8,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4) if dilated else (1, 1, 1, 1),
        strides=(1, 2, 1, 1) if dilated else (1, 2, 2, 2),
        norm_cfg=dict(type='BN'),
        init_cfg=None)


def seg_head(kind, in_channels=64, c1=8, num_classes=5):
    common = dict(
        in_channels=in_channels,
        in_index=3,
        channels=8,
        num_classes=num_classes,
        norm_cfg=dict(type='BN'),
        dropout_ratio=0.0,
        align_corners=False)
    if kind == 'fcn':
        return dict(type='FCNHead', num_convs=1, concat_input=True, **common)
    if kind == 'deeplabv3':
        return dict(type='ASPPHead', dilations=(1, 2, 3), **common)
    return dict(
        type='DepthwiseSeparableASPPHead',
        dilations=(1, 2, 3),
        c1_in_channels=c1,
        c1_channels=4,
        **common)


def encoder_decoder(decode_head, backbone=None, aux_channels=32):
    cfg = dict(
        type='EncoderDecoder',
        backbone=backbone or seg_backbone(),
        decode_head=decode_head,
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    if aux_channels:
        cfg['auxiliary_head'] = dict(
            type='FCNHead',
            in_channels=aux_channels,
            in_index=2,
            channels=4,
            num_convs=1,
            concat_input=False,
            num_classes=5,
            norm_cfg=dict(type='BN'),
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4))
    return cfg


def toy_retinanet(num_classes: int) -> dict:
    """RetinaNet with ResNet-18 at 1/4 width, FPN strides 4-32, no pretrain
    (the detector of ``configs/tim/retinanet_ivif_toy.py``), as the toy
    benchmarks train it."""
    bc = 16
    return dict(
        type='RetinaNet',
        backbone=dict(
            type='ResNet',
            depth=18,
            base_channels=bc,
            out_indices=(0, 1, 2, 3),
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            init_cfg=None),
        neck=dict(
            type='FPN',
            in_channels=[bc, bc * 2, bc * 4, bc * 8],
            out_channels=64,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4),
        bbox_head=dict(
            type='RetinaHead',
            num_classes=num_classes,
            in_channels=64,
            stacked_convs=2,
            feat_channels=64,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=2,
                scales_per_octave=2,
                ratios=[0.5, 1.0, 2.0],
                strides=[4, 8, 16, 32]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            loss_cls=dict(
                type='FocalLoss',
                use_sigmoid=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0,
                ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=dict(
            nms_pre=1000,
            min_bbox_size=0,
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100))
