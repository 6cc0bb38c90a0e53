# Retrain the N_F found by search_fusion_ivif_toy.py on the toy data
# Guide: docs/user_guides/search.md
_base_ = [
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=dict(
        type='GenotypeNet',
        genotype='work_dirs/search_fusion_ivif_toy/genotypes/latest.yaml'),
    losses=[
        dict(type='MaxIntensityLoss', loss_weight=1.0),
        dict(type='MaxGradientLoss', loss_weight=2.0),
    ])

custom_hooks = [dict(type='FusedImageSaveHook')]
