# Dehazing with proxy-based hyper-guidance (OUR design: the paper shows
# dehazing results, the official code has no dehazing). Atmospheric model
# y = t x + A (1 - t): each stage's proxy reads the hazy input and predicts
# the guidance [t, A] (sigmoid, supervised with the true transmission and
# airlight), the haze data step solves
# min_x ||t x + A(1-t) - y||^2 + rho_t ||x - x_t||^2 per pixel with it, and
# the FFDNet-like denoiser refines [x~, t^, A^]; official alternating
# bilevel training. Training: depth-based haze on RGB-D pairs (Middlebury
# layout; NYU / RESIDE ITS work with their own suffixes); test: SOTS
# (hazy/ <-> clear/).
_base_ = ['../_base_/default_runtime.py']
model = dict(
    type='ProxyBilevelAlgorithm',
    scheme='alternating',
    architecture=dict(
        type='HQSRestorer',
        network=dict(
            type='UnrolledHQSNet',
            num_stages=3,
            rho=[0.05, 0.1, 0.2],
            data_step=dict(type='HazeDataStep', t_min=0.05),
            proxy=dict(
                type='NoiseLevelProxy', in_channels=3, out_channels=2,
                out_act='sigmoid', width=64),
            denoiser=dict(
                type='DilatedDenoiser', in_channels=3, guidance_channels=2,
                dilations='ffd', width=64),
            guidance='proxy',
            proxy_input='y'),
        network_channels=3,
        guidance_weight=1.0,
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
        type='SyntheticHazeDataset',
        rgb_dir='data/Middlebury/RGB',
        depth_dir='data/Middlebury/Depth',
        crop_size=96,
        length=1000))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PairedRestorationDataset',
        data_root='data/SOTS/outdoor',
        layout='sots'))
test_dataloader = val_dataloader
# a list: a dict with a 'metrics' key would be read as an Evaluator config
val_evaluator = [dict(type='ImageQualityMetric', metrics=['PSNR', 'SSIM'])]
test_evaluator = val_evaluator
train_cfg = dict(type='IterBasedTrainLoop', max_iters=50000,
                 val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=5000))
