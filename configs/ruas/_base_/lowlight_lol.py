# LOL eval15 with the official RUAS test conventions (whole images, RGB / 255)
# Layout: docs/user_guides/restoration_datasets.md
dataset_type = 'LowLightDataset'
data_root = 'data/LOL/eval15/'

test_pipeline = [
    dict(type='LoadEnhanceImages'),
    dict(type='PackEnhanceInputs'),
]

val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(low='low', gt='high'),
        img_suffixes=['.png'],
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [dict(type='ImageQualityMetric', metrics=['PSNR', 'SSIM'])]
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
