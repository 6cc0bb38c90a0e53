# The detector of the task-driven evaluation protocol
# (tools/analysis_tools/task_protocol.py,
# docs/user_guides/task_driven_protocol.md): a plain MMDetection RetinaNet on
# ONE 3-channel image per sample -- the infrared image, the visible image or
# the fused image of one fusion method -- trained with the same config and
# the same initial weights for every input. mmdet's LoadImageFromFile reads
# every image as 3-channel BGR, so a grey image (infrared, a grey fused
# image) is replicated to 3 channels and a colour one (visible, a fused Y
# with the visible chroma) keeps its colour.
#
# Trained from scratch: no ImageNet weights are available offline
# (`init_cfg=None`); a local resnet18 checkpoint is not used, so that every
# input starts from the same random initialisation. ResNet-18 at half width
# (base_channels=32: stages of 32 / 64 / 128 / 256 channels), FPN P3-P7 with
# 128 channels, RetinaHead with 4 stacked 128-channel convs; BatchNorm is
# trained (from scratch there are no statistics to keep).
#
# The protocol tool writes the images (<work-dir>/images/<set>/<method>/
# <stem>.png) and one COCO json of the YOLO labels per split and label set
# (<work-dir>/labels/), then sets per method and seed: data_root / ann_file /
# data_prefix of the loaders, the classes, the input size (`img_scale`), the
# batch size, the budget (train_cfg.max_iters, schedule rescaled as
# tools/train.py --max-iters rescales it), randomness.seed and load_from
# (the saved initial weights of the seed). Trained alone (tools/train.py),
# point data_root / ann_file / data_prefix at such a folder.
_base_ = ['../_base_/default_runtime.py']

classes = ('person', 'bicycle', 'car')
img_scale = (640, 480)  # (w, h): the MSRS frame size
data_root = 'work_dirs/task_protocol/'
dataset_type = 'mmdet.CocoDataset'

model = dict(
    # built in mmdet's scope: the nested types are mmdet's
    _scope_='mmdet',
    type='mmdet.RetinaNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=18,
        base_channels=32,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(
        type='FPN',
        in_channels=[32, 64, 128, 256],
        out_channels=128,
        start_level=1,
        add_extra_convs='on_input',
        num_outs=5),
    bbox_head=dict(
        type='RetinaHead',
        num_classes=len(classes),
        in_channels=128,
        stacked_convs=4,
        feat_channels=128,
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=4,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
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

train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.PackDetInputs'),
]
test_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='labels/train_fusion.json',
        data_prefix=dict(img='images/MSRS_det/ir/'),
        metainfo=dict(classes=classes),
        # the same labels for every input: pairs without a box are left out
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='labels/test_fusion.json',
        data_prefix=dict(img='images/MSRS_det/ir/'),
        metainfo=dict(classes=classes),
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(
    type='mmdet.CocoMetric',
    ann_file=data_root + 'labels/test_fusion.json',
    metric='bbox')

# AdamW with a linear warm-up over the first 10 % and a cosine decay to 1 %
# of the learning rate; no validation (the last iteration is tested)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
        end=200),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=200,
        end=2000,
        T_max=1800,
        eta_min=2e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000)
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    logger=dict(interval=50),
    # the last checkpoint only (a killed run resumes from it)
    checkpoint=dict(interval=250, max_keep_ckpts=1))
