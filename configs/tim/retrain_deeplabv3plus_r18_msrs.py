# Retrain deeplabv3plus_r18_msrs.py with the distillation decoder found by
# configs/tim/search_deeplabv3plus_r18_msrs.py (TIM Sec. 4.3.2): ResNetV1c-18
# without dilation (C3-C5 at 1/8, 1/16, 1/32), the decoder -- two 2-node
# feature distillation cells with residual up-sampling, logits at 1/8 --
# rebuilt from the exported genotype in place of DeepLabV3+'s ASPP decoder;
# the FCN auxiliary head on the 1/16 level is the paper's additional 1/16
# cross-entropy.
#   python tools/train.py configs/tim/search_deeplabv3plus_r18_msrs.py
#   python tools/train.py configs/tim/retrain_deeplabv3plus_r18_msrs.py
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
