# Toy sibling of search_arch_hbl_lol.py (stage 2), 8 iterations
# Guide: docs/methods/hbl.md
_base_ = [
    '../_base_/models/hbl_search_space.py',
    './_base_/hbl_losses.py',
    './_base_/hbl_toy_data.py',
    '../_base_/default_runtime.py',
]

loss_weights = 'work_dirs/search_loss_hbl_toy/loss_weights/latest.yaml'
model = dict(
    type='BilevelSearchAlgorithm',
    architecture=dict(
        type='ImageEnhancer',
        data_preprocessor=dict(type='EnhanceDataPreprocessor'),
        network={{_base_.hbl_toy_supernet}},
        losses={{_base_.hbl_train_losses_toy}},
        loss_weights=loss_weights),
    strategy=dict(type='DartsSecondOrderStrategy', use_optimizer_state=True),
    space_path='network')
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
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=3e-3, betas=(0.5, 0.999), weight_decay=1e-4)))
param_scheduler = dict(weights=[], arch=[])
custom_hooks = [dict(type='GenotypeExportHook', by_epoch=False, interval=4)]
default_hooks = dict(
    logger=dict(interval=2), checkpoint=dict(interval=8, by_epoch=False))
train_dataloader = dict(dataset={{_base_.hbl_search_weights_dataset}})
