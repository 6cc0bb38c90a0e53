# Synthetically misaligned infrared-visible pairs for registration (TIM
# Sec. 5.1.2: the infrared image is "corrupted utilizing random deformation
# fields by affine and elastic transformations"). The layout is that of
# ivif_fusion.py (data/<name>/{ir,vi}/<stem>.<ext>, pairs by stem; split
# files optional). RandomElasticAffineWarp warps the IR image after the
# geometric augmentation and stores the field that registers it back
# (gt_flow, packed on the data sample): new warps every training sample,
# one fixed warp per validation image (seed=0, drawn from the stem), so the
# validation numbers are comparable across runs. Configs based on this
# file override `data_root` of every dataloader.
dataset_type = 'PairedImageDataset'
data_root = 'data/TNO/'
modalities = dict(ir='ir', vi='vi')  # stacked (ir, vi); ir is warped
# sizes are fractions of the image (peak elastic displacement 1.5 % of the
# shorter side, translation up to 2 %, rotation up to 3 degrees)
misalignment = dict(
    type='RandomElasticAffineWarp',
    key='ir',
    max_rotation=3.0,
    max_scale=0.03,
    max_shear=0.02,
    max_translation=0.02,
    elastic_magnitude=0.015,
    elastic_sigma=0.1)

train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(128, 128)),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    misalignment,
    dict(type='PackFusionInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages'),
    dict(misalignment, seed=0),
    dict(type='PackFusionInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file='',
        pipeline=train_pipeline))
# whole images of different sizes: one per batch
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file='',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# end-point error of the predicted field against the known one (EPE_none:
# the misalignment left without registration); 8 border pixels, where the
# warped image was extrapolated, are ignored
val_evaluator = [dict(type='RegistrationMetric', border=8)]
test_evaluator = val_evaluator
