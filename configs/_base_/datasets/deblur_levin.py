# Synthetic non-blind deblurring training data (the official loader) and
# the Levin et al. benchmark at sigma 1% (docs/methods/hyper_guidance.md)
train_dataloader = dict(
    batch_size=3,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SyntheticDeblurDataset',
        img_dirs='data/BSDS300/images/train',
        kernels=dict(type='motion', num=20, size=(15, 19, 23, 27)),
        crop_size=320,
        sigma_range=(0.01, 0.05),
        kernel_pad=37,
        length=200,
        seed=0))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='LevinDataset', data_root='data/levin09', noise_sigma=0.01,
        seed=0))
test_dataloader = val_dataloader
val_evaluator = dict(type='DeblurMetric', border='kernel', shift_max=True)
test_evaluator = val_evaluator
