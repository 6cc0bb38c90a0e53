# Unsupervised RUAS training on LOL low-light images (official train.py)
# Guide: docs/methods/ruas.md
_base_ = [
    '../_base_/models/ruas.py',
    './_base_/lowlight_lol.py',
    '../_base_/default_runtime.py',
]

model = dict(
    pred_quantize='floor',
    losses=[
        dict(type='RUASSceneLoss', prior='weighted_tv',
             guide='ycbcr_official'),
        dict(type='RUASDenoiseLoss'),
    ])

train_pipeline = [
    dict(type='LoadEnhanceImages'),
    dict(type='PairedRandomCrop', crop_size=(320, 320)),
    dict(type='PackEnhanceInputs'),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='LowLightDataset',
        data_root='data/LOL/our485/',
        data_prefix=dict(low='low'),
        with_gt=False,
        img_suffixes=['.png'],
        pipeline=train_pipeline))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=800, val_interval=800)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.015, momentum=0.9, weight_decay=3e-4),
    clip_grad=dict(max_norm=5.0))
custom_hooks = [
    dict(
        # end to end with lambda = 1 (the official code steps scene and
        # denoiser separately); 'hierarchical': the paper's scheme
        type='RUASTrainingStrategyHook',
        strategy='end_to_end',
        scene_losses=['loss_scene'],
        task_losses=['loss_denoise'],
        scene_weight=1.0),
]
default_hooks = dict(checkpoint=dict(interval=50, by_epoch=False))
