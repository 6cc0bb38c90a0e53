# TIM MRI-PET network (official) trained jointly from scratch on Harvard
#   OMP_NUM_THREADS=1 python tools/train.py CONFIG
# Guide: docs/methods/tim_medical_trained.md
_base_ = [
    '../_base_/models/tim_mri_pet.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/datasets/harvard_pet_fusion.py',
    '../_base_/default_runtime.py',
]
max_iters = 200

model = dict(
    # the official PET model swaps the sources: branch 1 reads PET-Y
    fusion_net=dict(branch_names=('target', 'detail')),
    losses=[
        _base_.tim_stage1_info_loss,
        *_base_.medical_branch_losses,
        _base_.tim_saliency_loss,
    ])

train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader

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
