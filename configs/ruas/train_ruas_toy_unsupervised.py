# Toy sibling of train_ruas_lol_unsupervised.py (hierarchical)
# Guide: docs/methods/ruas.md
_base_ = ['./train_ruas_lol_unsupervised.py']

data_root = 'data/toy_lowlight/'
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root + 'train/',
        pipeline=[
            dict(type='LoadEnhanceImages'),
            dict(type='PairedRandomCrop', crop_size=(32, 32)),
            dict(type='PackEnhanceInputs'),
        ]))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root + 'val/'))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=20, val_interval=20)
custom_hooks = [
    dict(
        type='RUASTrainingStrategyHook',
        strategy='hierarchical',
        scene_losses=['loss_scene'],
        task_losses=['loss_denoise'],
        scene_iters=10),
]
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=20, by_epoch=False))
