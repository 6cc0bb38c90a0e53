# TIM N_F trained on the toy data (its train / val splits)
# Guide: docs/methods/tim.md
_base_ = './fusion_ivif_tno.py'

model = dict(losses=_base_.tim_fusion_losses_toy)

data_root = 'data/toy/'
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='splits/train.txt'))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='splits/val.txt'))
test_dataloader = val_dataloader

param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=1000, eta_min=1e-6)
]
train_cfg = dict(max_iters=1000, val_interval=250)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=250))
