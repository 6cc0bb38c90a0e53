# Toy sibling of train_hbl_lol.py (stage 3), 30 iterations
# Guide: docs/methods/hbl.md
_base_ = [
    './_base_/hbl_losses.py',
    './_base_/hbl_toy_data.py',
    '../_base_/default_runtime.py',
]

genotype = 'work_dirs/search_arch_hbl_toy/genotypes/latest.yaml'
loss_weights = 'work_dirs/search_loss_hbl_toy/loss_weights/latest.yaml'
model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network=dict(type='GenotypeNet', genotype=genotype),
    losses={{_base_.hbl_train_losses_toy}},
    loss_weights=loss_weights,
    pred_quantize='round')
train_cfg = dict(type='IterBasedTrainLoop', max_iters=30, val_interval=30)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=3e-4),
    clip_grad=dict(max_norm=5.0))
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=30, by_epoch=False))
