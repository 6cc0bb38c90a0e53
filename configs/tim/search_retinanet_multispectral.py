# Task-guided search of RetinaNet's neck on MultiSpectral with N_F plugged in
# (TIM Sec. 4.3.1, Table 4): the space of search_retinanet_ivif.py (4-node
# feature distillation cells over ResNet-18 C3-C5, 11 task operators per
# edge), IAS. The paper's search setting: batch size 1, architecture
# learning rate 3e-4, 120 search epochs after 40 epochs that train the
# fusion module alone "for well initialization":
#   epochs 0-39    FusionWarmupHook: l_F only (task loss off), alpha fixed
#   epochs 40-159  ArchScheduleHook: alpha updated (IAS, T = 20), l_T + eta*l_F
# Weights: AdamW 1e-4 (not given in the paper; as search_retinanet_ivif.py:
# ../_base_/schedules/tim_task_search_optim.py), backbone fixed. Split hygiene: weights on annotations/search_weights.json,
# alpha on annotations/search_arch.json (the two halves of train.json);
# test.json, on which retrain_retinanet_multispectral.py evaluates, stays
# unseen.
#   python tools/train.py configs/tim/search_retinanet_multispectral.py
#   python tools/train.py configs/tim/retrain_retinanet_multispectral.py
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
    frozen_modules=['detector.backbone'],
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
# no validation: the retrain config evaluates the derived neck
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
