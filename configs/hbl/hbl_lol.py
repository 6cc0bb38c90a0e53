# HBL with the official LOL genotype and converted weights, on LOL eval15
#   python tools/test.py CONFIG hbl_lol.pth
# Guide: docs/methods/hbl.md
_base_ = [
    '../_base_/models/hbl_genotypes.py',
    '../ruas/_base_/lowlight_lol.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network={{_base_.hbl_lol_network}},
    pred_quantize='round')
