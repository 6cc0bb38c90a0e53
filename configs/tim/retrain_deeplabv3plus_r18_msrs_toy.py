# Retrain deeplabv3plus_r18_msrs_toy.py with the distillation decoder found
# by configs/tim/search_deeplabv3plus_r18_msrs_toy.py (TIM Sec. 4.3.2): the
# ResNetV1c-18 encoder runs without dilation (C3-C5 at 1/8, 1/16, 1/32) and
# the decoder -- two 2-node feature distillation cells fusing the levels
# coarse to fine with residual up-sampling, logits at 1/8 -- is rebuilt
# from the exported genotype in place of DeepLabV3+'s ASPP decoder; the FCN
# auxiliary head on the 1/16 level gives the paper's additional 1/16
# cross-entropy. N_F, data and schedule are those of the toy config.
#   python tools/train.py configs/tim/search_deeplabv3plus_r18_msrs_toy.py
#   python tools/train.py configs/tim/retrain_deeplabv3plus_r18_msrs_toy.py
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
