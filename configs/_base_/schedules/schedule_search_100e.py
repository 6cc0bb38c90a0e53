# Bilevel architecture search schedule of TIM (Sec. 4.1): 100 epochs; the
# weights θ use SGD with initial learning rate 1e-3 and cosine annealing, the
# architecture α Adam. Momentum, weight decay, gradient clipping and the α
# optimizer's values are not given by the paper; these are DARTS's.
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
# MMEngine builds one scheduler list per optimizer of the OptimWrapperDict
# and needs every key: the weights anneal (over max_epochs), α keeps its lr.
param_scheduler = dict(
    weights=[dict(type='CosineAnnealingLR', by_epoch=True, eta_min=0.0)],
    arch=[])
# the search config adds `arch_dataloader` (the α split)
train_cfg = dict(type='BilevelEpochBasedTrainLoop', max_epochs=100)
