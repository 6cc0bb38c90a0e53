# Task-guided neck search (TIM Sec. 4.3.1) on M3FD, IAS; needs
# annotations/search_{weights,arch}.json (the halves of train)
# Guide: docs/methods/tim_task_necks.md
_base_ = [
    './retrain_retinanet_ivif.py',
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
    strategy=dict(type='IASStrategy'),  # variant='paper' (default)
    # TIM fixes its pre-trained backbone; with ImageNet weights in init_cfg
    # set frozen_modules=['detector.backbone'] (from scratch: trained)
    frozen_modules=[],
    arch_update_interval=20)

arch_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        data_prefix=_base_.modalities,
        ann_file='annotations/search_arch.json',
        metainfo=dict(classes=_base_.classes),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=_base_.train_pipeline))
train_dataloader = dict(
    dataset=dict(ann_file='annotations/search_weights.json'))
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
custom_hooks = [
    dict(type='ArchLoggingHook', interval=100, by_epoch=False),
    dict(type='GenotypeExportHook', interval=1000, by_epoch=False),
]
