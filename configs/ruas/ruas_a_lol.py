# RUAS_A (TPAMI) with converted official weights, on LOL eval15
#   python tools/test.py CONFIG CKPT
# Guide: docs/methods/ruas.md
_base_ = [
    '../_base_/models/ruas_a.py',
    './_base_/lowlight_lol.py',
    '../_base_/default_runtime.py',
]

# metrics on the 8-bit outputs as the official code saves them
model = dict(pred_quantize='floor')
