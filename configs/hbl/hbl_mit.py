# HBL (IJCAI 2022) with the official MIT genotype (official get_genname
# sets MITgenotype{e,d,0-6}), evaluated on MIT-Adobe FiveK (data/MIT/{test,gt}).
# Weights: official HBLALS_pytorch state dicts, converted with
#   python tools/model_converters/hbl_official_to_mmfusenas.py SRC.pth \
#       hbl_mit.pth --genotype mit
# Test / enhance:
#   python tools/test.py configs/hbl/hbl_mit.py hbl_mit.pth
#   python tools/enhance.py configs/hbl/hbl_mit.py hbl_mit.pth \
#       --input DIR --out DIR --rounding round
# The official test never calls eval() (per-image BN statistics); reproduce it
# with --cfg-options model.network.bn_test_stats=per_image.
_base_ = [
    '../_base_/models/hbl_genotypes.py',
    '../ruas/_base_/lowlight_mit.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network={{_base_.hbl_mit_network}},
    # the official code clamps to [0, 1] and saves 8-bit images
    pred_quantize='round')
