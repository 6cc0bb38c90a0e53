# RESIDE SOTS outdoor evaluation split for dehazing (SIHR)
# Layout: docs/methods/hbl.md ("Data")
dataset_type = 'HazeDataset'
data_root = 'data/RESIDE/SOTS/outdoor/'
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
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='ImageQualityMetric', metrics=['PSNR', 'SSIM'])]
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
