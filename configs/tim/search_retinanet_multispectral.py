# Task-guided neck search on MultiSpectral (Table 4): 40 fusion-only epochs,
# then 120 of IAS; weights AdamW (not given in the paper)
# Guide: docs/methods/tim_task_necks.md
_base_ = [
    './retrain_retinanet_multispectral.py',
    '../_base_/models/tim_neck_search_space.py',
    '../_base_/schedules/tim_task_search_optim.py'
]

neck_space = _base_.tim_neck_space

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
                in_channels=64,
                feat_channels=64))),
    space_path='detector.neck',
    strategy=dict(type='IASStrategy'),
    # TIM fixes its pre-trained backbone; with ImageNet weights in init_cfg
    # set frozen_modules=['detector.backbone'] (from scratch: trained)
    frozen_modules=[],
    arch_update_interval=20)

fusion_epochs = 40
search_epochs = 120
batch_size = 1
train_dataloader = dict(
    batch_size=batch_size,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(ann_file='annotations/search_weights.json'))
arch_dataloader = dict(
    batch_size=batch_size,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        data_prefix=_base_.modalities,
        ann_file='annotations/search_arch.json',
        metainfo=dict(classes=_base_.classes),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=_base_.train_pipeline))
train_cfg = dict(
    _delete_=True,
    type='BilevelEpochBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_epochs=fusion_epochs + search_epochs)
val_dataloader = None
val_evaluator = None
val_cfg = None

optim_wrapper = dict(_base_.tim_task_search_optim_wrapper, _delete_=True)
param_scheduler = dict(
    _delete_=True,
    weights=[dict(type='CosineAnnealingLR', by_epoch=True, eta_min=1e-6)],
    arch=[])

default_hooks = dict(checkpoint=dict(interval=1, by_epoch=True))
custom_hooks = [
    dict(type='FusionWarmupHook', warmup=fusion_epochs, by_epoch=True),
    dict(
        type='ArchScheduleHook',
        stages=[dict(begin=fusion_epochs, end=None)]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
