# Joint fusion + task training on real data: 20k iterations of AdamW
# (lr 1e-4 for N_F and the task model alike), linear warm-up over the first
# 500 iterations, lr x0.1 at 14k and 18k; validation and a checkpoint every
# 2k iterations (see default_hooks of the configs).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.001,
        by_epoch=False,
        begin=0,
        end=500),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=20000,
        milestones=[14000, 18000],
        gamma=0.1),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
