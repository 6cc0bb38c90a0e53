# Official schedule: Adam 1e-4 with Keras betas / eps, batch 3, 100,010 iters
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), eps=1e-7))
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=100010, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
