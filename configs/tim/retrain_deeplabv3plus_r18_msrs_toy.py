# Retrain deeplabv3plus_r18_msrs_toy.py with the decoder found by
# search_deeplabv3plus_r18_msrs_toy.py (docs/methods/tim_task_necks.md)
_base_ = './deeplabv3plus_r18_msrs_toy.py'

model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    segmentor=dict(
        backbone=dict(dilations=(1, 1, 1, 1), strides=(1, 2, 2, 2)),
        decode_head=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='work_dirs/search_deeplabv3plus_r18_msrs_toy/genotypes/'
            'latest.yaml')))
