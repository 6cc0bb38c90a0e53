# HBL stage 2: architecture search with stage 1's loss weights (official
# train_search_architecture.py) (docs/methods/hbl.md)
_base_ = [
    '../_base_/models/hbl_search_space.py',
    './_base_/hbl_losses.py',
    './_base_/hbl_lol_data.py',
    '../_base_/default_runtime.py',
]

loss_weights = 'work_dirs/search_loss_hbl_lol/loss_weights/latest.yaml'
model = dict(
    type='BilevelSearchAlgorithm',
    architecture=dict(
        type='ImageEnhancer',
        data_preprocessor=dict(type='EnhanceDataPreprocessor'),
        network={{_base_.hbl_supernet}},
        losses={{_base_.hbl_train_losses}},
        loss_weights=loss_weights),
    # the official architect decays the unrolled step by 3e-4, its SGD not
    strategy=dict(
        type='DartsSecondOrderStrategy',
        use_optimizer_state=True,
        unroll_weight_decay=3e-4),
    space_path='network')

train_cfg = dict(
    type='BilevelIterBasedTrainLoop',
    max_iters=243 * 1000,  # official: 1000 epochs of batch 1 (243 pairs)
    val_interval=243 * 10,
    arch_dataloader={{_base_.hbl_arch_dataloader}})
optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=5e-4, momentum=0.9, weight_decay=0.0),
        clip_grad=dict(max_norm=5.0)),
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=5e-4, betas=(0.5, 0.999), weight_decay=1e-4)))
param_scheduler = dict(weights=[], arch=[])
custom_hooks = [
    dict(type='GenotypeExportHook', by_epoch=False, interval=243),
]
default_hooks = dict(checkpoint=dict(interval=2430, by_epoch=False))
randomness = dict(seed=2)  # the official --seed
train_dataloader = dict(dataset={{_base_.hbl_search_weights_dataset}})
