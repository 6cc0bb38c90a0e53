# Task-guided decoder search (TIM Sec. 4.3.2) on MSRS; needs
# splits/search_{weights,arch}.txt under data/MSRS/train (task_guided.md)
# Guide: docs/methods/tim_task_necks.md
_base_ = [
    './retrain_deeplabv3plus_r18_msrs.py',
    '../_base_/schedules/tim_task_search_optim.py'
]

task_ops = [
    'conv_1', 'conv_3', 'conv_5', 'conv_7', 'dil_conv_3_2', 'dil_conv_5_2',
    'dil_conv_7_2', 'res_conv_3', 'res_conv_5', 'res_conv_7', 'skip'
]
decoder_space = dict(
    type='mmfusenas.SearchableDistillationHead',
    in_channels=[128, 256, 512],
    in_index=[1, 2, 3],
    channels=128,
    num_nodes=2,
    num_classes=9,
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
    # DARTS first order (the toy control's winner); TIM's IAS: IASStrategy,
    # arch_update_interval=20
    strategy=dict(type='DartsFirstOrderStrategy'),
    # TIM fixes its pre-trained backbone; with ImageNet weights in init_cfg
    # set frozen_modules=['segmentor.backbone'] (from scratch: trained)
    frozen_modules=[],
    arch_update_interval=1)

train_dataloader = dict(dataset=dict(ann_file='splits/search_weights.txt'))
arch_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root + 'train/',
        data_prefix=_base_.modalities,
        ann_file='splits/search_arch.txt',
        pipeline=_base_.train_pipeline))
train_cfg = dict(
    _delete_=True,
    type='BilevelIterBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_iters=10000,
    val_interval=10000)
val_dataloader = None
val_evaluator = None
val_cfg = None

optim_wrapper = dict(_base_.tim_task_search_optim_wrapper, _delete_=True)
param_scheduler = dict(
    _delete_=True,
    weights=[
        dict(
            type='CosineAnnealingLR',
            by_epoch=False,
            T_max=10000,
            eta_min=1e-6)
    ],
    arch=[])

default_hooks = dict(checkpoint=dict(interval=1000))
warmup_iters = 1000
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        by_epoch=False,
        stages=[
            dict(begin=0, end=warmup_iters, keys=[]),
            dict(begin=warmup_iters)
        ]),
    dict(type='ArchLoggingHook', interval=100, by_epoch=False),
    dict(type='GenotypeExportHook', interval=1000, by_epoch=False),
]
