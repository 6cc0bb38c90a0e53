# Retrain deeplabv3plus_r18_msrs.py with the decoder found by
# search_deeplabv3plus_r18_msrs.py (TIM Sec. 4.3.2)
# Guide: docs/methods/tim_task_necks.md
_base_ = './deeplabv3plus_r18_msrs.py'

model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    segmentor=dict(
        backbone=dict(dilations=(1, 1, 1, 1), strides=(1, 2, 2, 2)),
        decode_head=dict(
            _delete_=True,
            type='mmfusenas.GenotypeNet',
            genotype='work_dirs/search_deeplabv3plus_r18_msrs/genotypes/'
            'latest.yaml')))
