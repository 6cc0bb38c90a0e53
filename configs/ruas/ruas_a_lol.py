# RUAS_A (TPAMI 2022, Table 5): the full official TPAMI network, scene module +
# noise estimation + gated noise removal, 36,653 params. Evaluated on LOL
# eval15 (data/LOL/eval15/{low,high}).
# Weights: the official TPAMI weights/lol.pt:
#   python tools/model_converters/ruas_official_to_mmfusenas.py \
#       lol.pt ruas_a_lol.pth --trust
# Enhance a folder:
#   python tools/enhance.py configs/ruas/ruas_a_lol.py CKPT \
#       --input DIR --out DIR [--gt DIR --metrics]
_base_ = [
    '../_base_/models/ruas_a.py',
    './_base_/lowlight_lol.py',
    '../_base_/default_runtime.py',
]

# metrics on the 8-bit outputs as saved by the official code (truncation)
model = dict(pred_quantize='floor')
