# Task-guided neck search (TIM Sec. 4.3.1) on the toy data: DARTS first
# order, the 64 px proxy and a cap on cheap edges
# Guide: docs/methods/tim_neck_search.md
_base_ = [
    './retrain_retinanet_ivif_toy.py',
    '../_base_/models/tim_neck_search_space.py'
]

neck_space = _base_.tim_neck_space_toy

# 64 px proxy with anchors of 0.4 x stride: every level gets positives
search_scale = (64, 64)
# P-DARTS-style cap at derivation on skip / conv_1 edges (DARTS collapse)
cheap_op_cap = 2
search_anchors = dict(
    _base_.model.detector.bbox_head.anchor_generator, octave_base_scale=0.4)
search_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=search_scale),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]

model = dict(
    _delete_=True,
    type='BilevelSearchAlgorithm',
    architecture=dict(
        _base_.model,
        detector=dict(
            _base_.model.detector,
            neck=neck_space,
            bbox_head=dict(
                _base_.model.detector.bbox_head,
                anchor_generator=search_anchors))),
    space_path='detector.neck',
    strategy=dict(type='DartsFirstOrderStrategy'),
    # the toy backbone has no pre-trained weights; frozen, it gives no signal
    frozen_modules=[],
    arch_update_interval=1,
    regularizer=dict(
        type='SkipCountRegularizer',
        loss_weight=0.0,
        skip_names=('skip', 'conv_1'),
        budget=cheap_op_cap))

arch_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        data_prefix=_base_.modalities,
        ann_file='annotations/instances_search_arch.json',
        metainfo=dict(classes=_base_.classes),
        pipeline=search_pipeline))
train_dataloader = dict(
    dataset=dict(
        ann_file='annotations/instances_search_weights.json',
        pipeline=search_pipeline))
train_cfg = dict(
    _delete_=True,
    type='BilevelIterBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_iters=100,
    val_interval=100)
val_dataloader = None
val_evaluator = None
val_cfg = None

optim_wrapper = dict(
    _delete_=True,
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
        clip_grad=dict(max_norm=10.0)),
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=3e-2, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(
    _delete_=True,
    weights=[
        dict(
            type='CosineAnnealingLR',
            by_epoch=False,
            T_max=100,
            eta_min=1e-5)
    ],
    arch=[])

default_hooks = dict(checkpoint=dict(interval=50))
warmup_iters = 20
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        by_epoch=False,
        stages=[
            dict(begin=0, end=warmup_iters, keys=[]),
            dict(begin=warmup_iters)
        ]),
    dict(type='ArchLoggingHook', interval=10, by_epoch=False),
    dict(type='GenotypeExportHook', interval=50, by_epoch=False),
]
