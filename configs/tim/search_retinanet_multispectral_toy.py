# Toy sibling of search_retinanet_multispectral.py (1 fusion-only epoch, 2 of
# search, alpha at 10x the paper's lr) (docs/methods/tim_task_necks.md)
_base_ = [
    './retrain_retinanet_multispectral_toy.py',
    '../_base_/models/tim_neck_search_space.py'
]

neck_space = _base_.tim_neck_space_toy

model = dict(
    _delete_=True,
    type='BilevelSearchAlgorithm',
    architecture=dict(
        _base_.model, detector=dict(_base_.model.detector, neck=neck_space)),
    space_path='detector.neck',
    strategy=dict(type='IASStrategy'),
    # the toy backbone has no pre-trained weights; frozen, it gives no signal
    frozen_modules=[],
    arch_update_interval=5)

fusion_epochs = 1
search_epochs = 2
train_dataloader = dict(
    batch_size=1,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(ann_file='annotations/search_weights.json'))
arch_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        data_prefix=_base_.modalities,
        ann_file='annotations/search_arch.json',
        metainfo=dict(classes=_base_.classes),
        pipeline=_base_.train_pipeline))
train_cfg = dict(
    _delete_=True,
    type='BilevelEpochBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_epochs=fusion_epochs + search_epochs)
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
            type='Adam', lr=3e-3, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(
    _delete_=True,
    weights=[dict(type='CosineAnnealingLR', by_epoch=True, eta_min=1e-5)],
    arch=[])

default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=1, by_epoch=True))
custom_hooks = [
    dict(type='FusionWarmupHook', warmup=fusion_epochs, by_epoch=True),
    dict(
        type='ArchScheduleHook',
        stages=[dict(begin=fusion_epochs, end=None)]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
