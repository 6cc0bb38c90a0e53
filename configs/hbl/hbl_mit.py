# HBL with the official MIT genotype and converted weights, on MIT-Adobe FiveK
#   python tools/test.py CONFIG hbl_mit.pth
# Guide: docs/methods/hbl.md
_base_ = [
    '../_base_/models/hbl_genotypes.py',
    '../ruas/_base_/lowlight_mit.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network={{_base_.hbl_mit_network}},
    pred_quantize='round')
