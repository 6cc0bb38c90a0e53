# N_R on the toy pairs (val is also its test split: a runnability config)
# Guide: docs/methods/registration.md
_base_ = './registration_ivif_tno.py'

data_root = 'data/toy/'
reference_size = (256, 256)
train_pipeline = _base_.train_pipeline[:-2] + [
    dict(_base_.misalignment, reference_size=reference_size),
    dict(type='PackFusionInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='splits/val.txt'))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=3e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=300,
         T_max=280, eta_min=3e-5),
]
train_cfg = dict(max_iters=300, val_interval=100)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100))
