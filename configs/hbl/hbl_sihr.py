# HBL with the official SIHR genotype and converted weights, on RESIDE SOTS
#   python tools/test.py CONFIG hbl_sihr.pth
# Guide: docs/methods/hbl.md
_base_ = [
    '../_base_/models/hbl_genotypes.py',
    './_base_/haze_sots.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network={{_base_.hbl_sihr_network}},
    pred_quantize='round')
