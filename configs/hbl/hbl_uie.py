# HBL with the official UIE genotype and converted weights, on UIEB
#   python tools/test.py CONFIG hbl_uie.pth
# Guide: docs/methods/hbl.md
_base_ = [
    '../_base_/models/hbl_genotypes.py',
    './_base_/underwater_uieb.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network={{_base_.hbl_uie_network}},
    pred_quantize='round')
