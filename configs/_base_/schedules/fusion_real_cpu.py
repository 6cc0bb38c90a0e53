# The training schedule of the real-data fusion networks (the loss x
# architecture grid, docs/user_guides/fusion_training.md): Adam lr 1e-3,
# cosine to 1e-5 over `max_iters` steps, no validation during training (the
# test split is never read: val_begin after the last step), one checkpoint
# at the end. `tools/train.py --max-iters N` rescales the whole schedule.
max_iters = 1600
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
