# RUAS_s (Liu et al., TPAMI 2022, Table 5): the scene module alone (3
# illumination stages), 1,161 params. Evaluated on LOL eval15
# (data/LOL/eval15/{low,high}).
# Weights: the scene module of the official TPAMI weights/lol.pt:
#   python tools/model_converters/ruas_official_to_mmfusenas.py \
#       lol.pt ruas_s_lol.pth --trust --scene-only
# Enhance a folder:
#   python tools/enhance.py configs/ruas/ruas_s_lol.py CKPT \
#       --input DIR --out DIR [--gt DIR --metrics]
_base_ = [
    '../_base_/models/ruas_s.py',
    './_base_/lowlight_lol.py',
    '../_base_/default_runtime.py',
]

# metrics on the 8-bit outputs as saved by the official code (truncation)
model = dict(pred_quantize='floor')
