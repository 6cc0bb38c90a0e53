# Synthetically misaligned infrared-visible pairs for registration (TIM
# Sec. 5.1.2: the infrared image is "corrupted utilizing random deformation
# fields by affine and elastic transformations"). The layout and loaders are
# those of ivif_fusion.py (data/<name>/{ir,vi}/<stem>.<ext>, pairs by stem;
# split files optional). RandomElasticAffineWarp warps the IR image after
# the geometric augmentation and stores the field that registers it back
# (gt_flow, packed on the data sample): new warps every training sample,
# one fixed warp per validation image (seed=0, drawn from the stem), so the
# validation numbers are comparable across runs. Configs based on this
# file override `data_root` of every dataloader.
_base_ = './ivif_fusion.py'

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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# end-point error of the predicted field against the known one (EPE_none:
# the misalignment left without registration); 8 border pixels, where the
# warped image was extrapolated, are ignored
val_evaluator = [dict(type='RegistrationMetric', border=8)]
test_evaluator = val_evaluator
