# TIM's N_F at C = 8 trained for fusion alone on the MSRS_det train pairs
# (the start of the task-protocol rows) (docs/methods/tim_task_real.md)
_base_ = [
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/models/tim_fusion_net.py',
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]
max_iters = 2000
data_root = '../shared/data/detection/MSRS_det/'
split_dir = '{{ fileDirname }}/../_base_/datasets/splits/msrs_det/'

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=dict(_base_.tim_fusion_net, channels=8),
    losses=_base_.tim_fusion_losses)

train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file=split_dir + 'train.txt'))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file=split_dir + 'val.txt'))
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
    logger=dict(interval=100),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
