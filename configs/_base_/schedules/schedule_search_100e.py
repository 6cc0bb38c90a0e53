# TIM's bilevel search schedule (Sec. 4.1); values the paper omits are DARTS's
optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=3e-4),
        clip_grad=dict(max_norm=5.0)),
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)))
# MMEngine needs one scheduler list per optimizer: alpha keeps its lr
param_scheduler = dict(
    weights=[dict(type='CosineAnnealingLR', by_epoch=True, eta_min=0.0)],
    arch=[])
train_cfg = dict(type='BilevelEpochBasedTrainLoop', max_epochs=100)
