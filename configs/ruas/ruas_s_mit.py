# RUAS_s (Liu et al., TPAMI 2022, Table 5): the scene module alone (3
# illumination stages), 1,161 params. Evaluated on MIT-Adobe FiveK as shipped
# by RUAS (data/MIT/{test,gt}).
# Weights: the scene module of the official TPAMI weights/mit.pt:
#   python tools/model_converters/ruas_official_to_mmfusenas.py \
#       mit.pt ruas_s_mit.pth --trust --scene-only
# Enhance a folder:
#   python tools/enhance.py configs/ruas/ruas_s_mit.py CKPT \
#       --input DIR --out DIR [--gt DIR --metrics]
_base_ = [
    '../_base_/models/ruas_s.py',
    './_base_/lowlight_mit.py',
    '../_base_/default_runtime.py',
]

# metrics on the 8-bit outputs as saved by the official code (truncation)
model = dict(pred_quantize='floor')
