# HBL stage 3: train the derived genotype with the searched loss weights
# Guide: docs/methods/hbl.md
_base_ = [
    './_base_/hbl_losses.py',
    './_base_/hbl_lol_data.py',
    '../_base_/default_runtime.py',
]

genotype = 'work_dirs/search_arch_hbl_lol/genotypes/latest.yaml'
loss_weights = 'work_dirs/search_loss_hbl_lol/loss_weights/latest.yaml'
model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network=dict(type='GenotypeNet', genotype=genotype),
    losses={{_base_.hbl_train_losses}},
    loss_weights=loss_weights,
    pred_quantize='round')

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=485 * 1000, val_interval=485 * 10)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=5e-4, momentum=0.9, weight_decay=3e-4),
    clip_grad=dict(max_norm=5.0))
default_hooks = dict(checkpoint=dict(interval=4850, by_epoch=False))
randomness = dict(seed=2)  # the official --seed
