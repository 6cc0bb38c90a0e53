# LOL (Wei et al., BMVC 2018) evaluation split for enhancement tests:
#   data/LOL/eval15/low/<name>.png    low-light input (600x400)
#   data/LOL/eval15/high/<name>.png   normal-light ground truth
# (the training split our485/ has the same layout). The test pipeline is the
# official RUAS one (test_enhancement.py): whole images, no resizing /
# cropping / padding, batch size 1, *.png only, RGB / 255; the saved output
# is truncated to 8 bits (the models set pred_quantize='floor', so the
# metrics are those of the saved PNGs). Override data_root for another
# folder, e.g. --cfg-options test_dataloader.dataset.data_root=...
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
