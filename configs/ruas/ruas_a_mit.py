# RUAS_A (TPAMI 2022, Table 5): the full official TPAMI network, scene module +
# noise estimation + gated noise removal, 36,653 params. Evaluated on MIT-Adobe
# FiveK as shipped by RUAS (data/MIT/{test,gt}).
# Weights: the official TPAMI weights/mit.pt:
#   python tools/model_converters/ruas_official_to_mmfusenas.py \
#       mit.pt ruas_a_mit.pth --trust
# Enhance a folder:
#   python tools/enhance.py configs/ruas/ruas_a_mit.py CKPT \
#       --input DIR --out DIR [--gt DIR --metrics]
_base_ = [
    '../_base_/models/ruas_a.py',
    './_base_/lowlight_mit.py',
    '../_base_/default_runtime.py',
]

# metrics on the 8-bit outputs as saved by the official code (truncation)
model = dict(pred_quantize='floor')
