"""Small mmdet / mmseg model configs for the tests.

Tiny widths, no pretrained weights, nothing downloaded: a ResNet at 8 base
channels, RetinaNet / SSD detectors and EncoderDecoder segmentors with FCN /
ASPP / DeepLabV3+ heads, at ``SIZE`` x ``SIZE`` inputs. Each function returns
a fresh config dict (``_scope_`` not set: wrap in a compound model or build
under the mmdet / mmseg scope). The detector the toy benchmarks train is
:func:`mmfusenas.testing.toy_models.toy_retinanet`.
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


def fpn(channels=(8, 16, 32, 64), out_channels=16, num_outs=4):
    """mmdet's FPN over every backbone level (strides 4 .. 4 * 2^(n-1))."""
    return dict(
        type='FPN',
        in_channels=list(channels),
        out_channels=out_channels,
        start_level=0,
        add_extra_convs='on_input',
        num_outs=num_outs)


STRIDES = [4, 8, 16, 32]


def distillation_neck(edge_cfg='conv_3', out_channels=16, num_nodes=1):
    """The searchable distillation neck over the 4 levels of :func:`resnet`
    (strides 4-32, 6 cells); ``edge_cfg`` an op name or a ``DiffMixedOp``
    template."""
    return dict(
        type='mmfusenas.SearchableDistillationNeck',
        in_channels=[8, 16, 32, 64],
        out_channels=out_channels,
        num_outs=4,
        num_nodes=num_nodes,
        strides=list(STRIDES),
        edge_cfg=edge_cfg)


def _rpn_head(channels=16):
    return dict(
        type='RPNHead',
        in_channels=channels,
        feat_channels=channels,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[4],
            ratios=[0.5, 1.0, 2.0],
            strides=STRIDES),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0] * 4,
            target_stds=[1.0] * 4),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0))


def _two_stage_train_cfg(mask_size=None):
    rcnn = dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.5,
            match_low_quality=True,
            ignore_iof_thr=-1),
        sampler=dict(
            type='RandomSampler',
            num=64,
            pos_fraction=0.25,
            neg_pos_ub=-1,
            add_gt_as_proposals=True),
        pos_weight=-1,
        debug=False)
    if mask_size:
        rcnn['mask_size'] = mask_size
    return dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=64,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=200,
            max_per_img=100,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=rcnn)


def _two_stage_test_cfg(mask=False):
    rcnn = dict(
        score_thr=0.0,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=10)
    if mask:
        rcnn['mask_thr_binary'] = 0.5
    return dict(
        rpn=dict(
            nms_pre=200,
            max_per_img=50,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=rcnn)


def _bbox_roi(channels=16, num_classes=4):
    return dict(
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=channels,
            featmap_strides=STRIDES),
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=channels,
            fc_out_channels=32,
            roi_feat_size=7,
            num_classes=num_classes,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0.] * 4,
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)))


def faster_rcnn(neck=None, num_classes=4, channels=16):
    """A tiny mmdet Faster R-CNN (ResNet-18 at 8 base channels); ``neck``
    must emit 4 levels at strides 4-32 with ``channels`` channels (default:
    :func:`fpn`)."""
    return dict(
        type='FasterRCNN',
        backbone=resnet(18),
        neck=neck or fpn(out_channels=channels),
        rpn_head=_rpn_head(channels),
        roi_head=dict(
            type='StandardRoIHead', **_bbox_roi(channels, num_classes)),
        train_cfg=_two_stage_train_cfg(),
        test_cfg=_two_stage_test_cfg())


def mask_rcnn(neck=None, num_classes=4, channels=16):
    """A tiny mmdet Mask R-CNN (Faster R-CNN + FCN mask head, 14x14 RoIs,
    28x28 mask targets)."""
    cfg = faster_rcnn(neck, num_classes, channels)
    cfg['type'] = 'MaskRCNN'
    cfg['roi_head'].update(
        mask_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=channels,
            featmap_strides=STRIDES),
        mask_head=dict(
            type='FCNMaskHead',
            num_convs=2,
            in_channels=channels,
            conv_out_channels=channels,
            num_classes=num_classes,
            loss_mask=dict(
                type='CrossEntropyLoss', use_mask=True, loss_weight=1.0)))
    cfg['train_cfg'] = _two_stage_train_cfg(mask_size=28)
    cfg['test_cfg'] = _two_stage_test_cfg(mask=True)
    return cfg


def fcos(neck=None, num_classes=4, channels=16):
    """A tiny mmdet FCOS; ``neck`` emits 4 levels at strides 4-32."""
    return dict(
        type='FCOS',
        backbone=resnet(18),
        neck=neck or fpn(out_channels=channels),
        bbox_head=dict(
            type='FCOSHead',
            num_classes=num_classes,
            in_channels=channels,
            stacked_convs=1,
            feat_channels=channels,
            strides=STRIDES,
            regress_ranges=((-1, 16), (16, 32), (32, 64), (64, 1e8)),
            norm_cfg=None,
            loss_cls=dict(
                type='FocalLoss',
                use_sigmoid=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=1.0),
            loss_bbox=dict(type='IoULoss', loss_weight=1.0),
            loss_centerness=dict(
                type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
        # FCOS assigns by location; these are RetinaNet's (unused) and its
        # test settings
        train_cfg=dict(RETINA_TRAIN),
        test_cfg=dict(RETINA_TEST))
