# 300 iterations of Adam, validation and a checkpoint every 100.
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3),
    clip_grad=None)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[200], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
