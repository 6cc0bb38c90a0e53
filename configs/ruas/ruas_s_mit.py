# RUAS_s (scene module) with converted official weights, on MIT-Adobe FiveK
#   python tools/test.py CONFIG CKPT
# Guide: docs/methods/ruas.md
_base_ = [
    '../_base_/models/ruas_s.py',
    './_base_/lowlight_mit.py',
    '../_base_/default_runtime.py',
]

# metrics on the 8-bit outputs as the official code saves them
model = dict(pred_quantize='floor')
