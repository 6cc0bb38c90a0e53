# Synthetically misaligned IR-VIS pairs for registration (TIM Sec. 5.1.2)
# Guide: docs/methods/registration.md
_base_ = './ivif_fusion.py'

# sizes are fractions of the image
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

val_evaluator = [dict(type='RegistrationMetric', border=8)]
test_evaluator = val_evaluator
