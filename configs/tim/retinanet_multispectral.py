# TIM task-guided fusion + RetinaNet R18 (FPN) on MultiSpectral (Table 4);
# the optimiser is not named in the paper: SGD
# Guide: docs/user_guides/det_seg_datasets.md
_base_ = [
    '../_base_/models/fusion_retinanet_r18.py',
    '../_base_/datasets/multispectral_det.py',
    '../_base_/default_runtime.py',
]

model = dict(detector=dict(bbox_head=dict(num_classes=5)))

max_iters = 160000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=2e-3, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        T_max=max_iters,
        eta_min=1e-8)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

custom_hooks = [dict(type='FusedImageSaveHook')]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=10000))
