# Task-guided decoder search (TIM Sec. 4.3.2) on the toy data
# Guide: docs/methods/tim_task_necks.md
_base_ = './retrain_deeplabv3plus_r18_msrs_toy.py'

task_ops = [
    'conv_1', 'conv_3', 'conv_5', 'conv_7', 'dil_conv_3_2', 'dil_conv_5_2',
    'dil_conv_7_2', 'res_conv_3', 'res_conv_5', 'res_conv_7', 'skip'
]
bc = 16
decoder_space = dict(
    type='mmfusenas.SearchableDistillationHead',
    in_channels=[bc * 2, bc * 4, bc * 8],
    in_index=[1, 2, 3],
    channels=bc * 2,
    num_nodes=2,
    num_classes=5,
    norm_cfg=dict(type='BN', requires_grad=True),
    dropout_ratio=0.1,
    align_corners=False,
    loss_decode=dict(
        type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    edge_cfg=dict(type='DiffMixedOp', key='dec', candidates=task_ops))

model = dict(
    _delete_=True,
    type='BilevelSearchAlgorithm',
    architecture=dict(
        _base_.model,
        segmentor=dict(_base_.model.segmentor, decode_head=decoder_space)),
    space_path='segmentor.decode_head',
    strategy=dict(type='DartsFirstOrderStrategy'),
    # the toy backbone has no pre-trained weights; frozen, it gives no signal
    frozen_modules=[],
    arch_update_interval=1)

arch_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        data_prefix=_base_.modalities,
        seg_map_dir='masks',
        ann_file='splits/search_arch.txt',
        metainfo=dict(classes=_base_.classes),
        pipeline=_base_.train_pipeline))
train_dataloader = dict(dataset=dict(ann_file='splits/search_weights.txt'))
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
