# The detector of the task-driven protocol on one 3-channel image per sample;
# run by tools/analysis_tools/task_protocol.py, which sets its data per method
# Guide: docs/user_guides/task_driven_protocol.md
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/retinanet_r18_half_msrs.py'
]

classes = ('person', 'bicycle', 'car')
img_scale = (640, 480)  # (w, h): the MSRS frame size
data_root = 'work_dirs/task_protocol/'
dataset_type = 'mmdet.CocoDataset'

model = dict(
    _scope_='mmdet',
    type='mmdet.RetinaNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    **_base_.retinanet_r18_half_msrs)

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
    checkpoint=dict(interval=250, max_keep_ckpts=1))
