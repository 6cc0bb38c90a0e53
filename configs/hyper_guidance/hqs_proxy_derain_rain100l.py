# Deraining with proxy-based hyper-guidance (our design; no official code);
# synthetic streaks on clean images, tests on Rain100L
# Guide: docs/methods/hyper_guidance.md
_base_ = ['../_base_/default_runtime.py']
model = dict(
    type='ProxyBilevelAlgorithm',
    scheme='alternating',
    architecture=dict(
        type='HQSRestorer',
        network=dict(
            type='UnrolledHQSNet',
            num_stages=3,
            rho=[0.5, 1.0, 2.0],
            data_step=dict(type='AdditiveDataStep'),
            proxy=dict(type='NoiseLevelProxy', in_channels=3, width=64),
            denoiser=dict(
                type='DilatedDenoiser', in_channels=3, guidance_channels=1,
                dilations='ffd', width=64),
            guidance='proxy'),
        network_channels=3,
        guidance_weight=10.0,
        guidance_stages=(0, )))
adam = dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    arch=dict(type='OptimWrapper', optimizer=adam),
    weights=dict(type='OptimWrapper', optimizer=adam))
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SyntheticRainDataset',
        img_dirs='data/Rain100L/train/norain',
        crop_size=96,
        length=1000))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PairedRestorationDataset',
        data_root='data/Rain100L/test',
        layout='rain100'))
test_dataloader = val_dataloader
val_evaluator = [dict(type='ImageQualityMetric', metrics=['PSNR', 'SSIM'])]
test_evaluator = val_evaluator
train_cfg = dict(type='IterBasedTrainLoop', max_iters=50000,
                 val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=5000))
