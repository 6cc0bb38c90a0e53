# Task-guided fusion on real MSRS_det pairs: N_F + the task protocol's
# RetinaNet (init: model.task_init=<protocol seed file>)
# Guide: docs/methods/tim_task_real.md
_base_ = [
    '../_base_/models/fusion_retinanet_r18.py',
    '../_base_/models/retinanet_r18_half_msrs.py',
    '../_base_/datasets/msrs_det.py',
    '../_base_/default_runtime.py',
]

warmup = 400  # fusion-only iterations before the detector's schedule
det_iters = 2000  # the protocol's detector budget

model = dict(
    detector=dict(
        _delete_=True, type='RetinaNet', **_base_.retinanet_r18_half_msrs),
    task_init=None)

train_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2),
    paramwise_cfg=dict(custom_keys={'fusion_net': dict(lr_mult=0.5)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=False,
        begin=warmup,
        end=warmup + 200),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=warmup + 200,
        end=warmup + det_iters,
        T_max=det_iters - 200,
        eta_min=2e-5),
]
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=warmup + det_iters,
    val_interval=warmup + det_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=warmup),
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=200, max_keep_ckpts=1))
