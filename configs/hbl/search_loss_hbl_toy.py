# Toy sibling of search_loss_hbl_lol.py (stage 1), full-reference objective
# Guide: docs/methods/hbl.md
_base_ = [
    '../_base_/models/hbl_search_space.py',
    './_base_/hbl_losses.py',
    './_base_/hbl_toy_data.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='LossWeightSearchAlgorithm',
    architecture=dict(
        type='ImageEnhancer',
        data_preprocessor=dict(type='EnhanceDataPreprocessor'),
        network={{_base_.hbl_toy_supernet}},
        losses={{_base_.hbl_search_losses_toy}}),
    objective=dict(type='FullReferenceQualityObjective', metric='psnr'),
    strategy=dict(type='DartsSecondOrderStrategy', use_optimizer_state=True))
train_cfg = dict(
    type='BilevelIterBasedTrainLoop',
    max_iters=8,
    val_interval=8,
    arch_dataloader={{_base_.hbl_arch_dataloader}})
optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0),
        clip_grad=dict(max_norm=5.0)),
    # a larger beta step so that the weights move visibly in 8 iterations
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=0.05, betas=(0.5, 0.999), weight_decay=1e-4)))
param_scheduler = dict(weights=[], arch=[])
custom_hooks = [dict(type='LossWeightExportHook', by_epoch=False, interval=4)]
default_hooks = dict(
    logger=dict(interval=2), checkpoint=dict(interval=8, by_epoch=False))
train_dataloader = dict(dataset={{_base_.hbl_search_weights_dataset}})
