# Toy sibling of search_loss_hbl_lol.py (stage 1): the small HBL space (2
# HNUs of width 16), random stand-ins for VGG19 / AlexNet, the full-reference
# objective (-PSNR on val/; the official classifier is not public), 8
# iterations with a larger beta step so the weights move visibly.
#   python tools/misc/make_toy_lowlight.py data/toy_lowlight
#   python tools/train.py configs/hbl/search_loss_hbl_toy.py
#   -> work_dirs/search_loss_hbl_toy/loss_weights/latest.yaml
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
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=0.05, betas=(0.5, 0.999), weight_decay=1e-4)))
param_scheduler = dict(weights=[], arch=[])
custom_hooks = [dict(type='LossWeightExportHook', by_epoch=False, interval=4)]
default_hooks = dict(
    logger=dict(interval=2), checkpoint=dict(interval=8, by_epoch=False))
# the weights' half of the training split (see the data base config)
train_dataloader = dict(dataset={{_base_.hbl_search_weights_dataset}})
