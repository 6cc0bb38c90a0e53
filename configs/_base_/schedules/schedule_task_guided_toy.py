# Joint fusion + task training on the toy data; the task schedule starts
# after the fusion warm-up (FusionWarmupHook)
warmup_iters = 50  # the configs' FusionWarmupHook(warmup=...)
max_iters = 300
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10.0),
    paramwise_cfg=dict(custom_keys={'fusion_net': dict(lr_mult=0.5)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=warmup_iters,
        end=warmup_iters + 20),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=warmup_iters + 20,
        end=max_iters,
        T_max=max_iters - warmup_iters - 20,
        eta_min=1e-5),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
