# Unsupervised (unpaired) training of RUAS (scene module + denoiser, the
# official IEM / CVPR NRM genotypes) on LOL low-light images alone
# (official train.py: our485/low, 320x320 random crops, batch 1, 800 steps;
# SGD momentum 0.9, weight decay 3e-4, clip 5, no LR schedule). Losses: the
# official scene loss (0.5 MSE(t_K, y) + weighted smoothness guided by the
# official YCbCr of y) and denoise loss (1e-7 MSE + TV).
# Training strategy (RUASTrainingStrategyHook): end to end, ℓ_t + λ ℓ_s
# with λ = 1. Official differences: the code steps the scene weights on ℓ_s
# every step (lr 0.015) and the denoiser on ℓ_t every 50th step (lr 0.001,
# starting from a pre-trained denoiser); use strategy='hierarchical' for
# the paper's pre-train-then-freeze scheme.
#   python tools/train.py configs/ruas/train_ruas_lol_unsupervised.py
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
        type='RUASTrainingStrategyHook',
        strategy='end_to_end',
        scene_losses=['loss_scene'],
        task_losses=['loss_denoise'],
        scene_weight=1.0),
]
default_hooks = dict(checkpoint=dict(interval=50, by_epoch=False))
