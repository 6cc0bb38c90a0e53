# TIM two-stage IVIF network trained jointly from scratch on RoadScene221
#   OMP_NUM_THREADS=1 python tools/train.py CONFIG
# Guide: docs/user_guides/fusion_training.md
_base_ = [
    '../_base_/models/tim_ivif.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/default_runtime.py',
]
max_iters = 360

model = dict(
    fusion_net=dict(branch_names=('detail', 'target')),
    losses=[
        _base_.tim_stage1_info_loss,
        *_base_.ivif_branch_losses,
        _base_.tim_saliency_loss,
    ])

train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader

# lr 1e-3: at 1e-4 the stage-2 head stays below the image range for long
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=max_iters,
         eta_min=1e-5)
]
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters,
    val_begin=max_iters + 1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
