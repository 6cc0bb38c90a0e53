# HBL (IJCAI 2022) with the official SIHR genotype (official get_genname
# sets SIHRgenotype{e,d,0-6}), evaluated on RESIDE SOTS (hazy/, clear/).
# Weights: official HBLALS_pytorch state dicts, converted with
#   python tools/model_converters/hbl_official_to_mmfusenas.py SRC.pth \
#       hbl_sihr.pth --genotype sihr
# Test / enhance:
#   python tools/test.py configs/hbl/hbl_sihr.py hbl_sihr.pth
#   python tools/enhance.py configs/hbl/hbl_sihr.py hbl_sihr.pth \
#       --input DIR --out DIR --rounding round
# The official test never calls eval() (per-image BN statistics); reproduce it
# with --cfg-options model.network.bn_test_stats=per_image.
_base_ = [
    '../_base_/models/hbl_genotypes.py',
    './_base_/haze_sots.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network={{_base_.hbl_sihr_network}},
    # the official code clamps to [0, 1] and saves 8-bit images
    pred_quantize='round')
