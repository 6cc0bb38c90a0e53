# Toy sibling of train_ruas_lol_unsupervised.py on darkened toy scenes
# (python tools/misc/make_toy_lowlight.py data/toy_lowlight): 32x32 crops,
# batch 2, 20 iterations, hierarchical strategy (10 scene iterations, then
# the denoiser with the scene module frozen).
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
