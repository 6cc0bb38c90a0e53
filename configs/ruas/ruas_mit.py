# RUAS (TPAMI 2022, Table 5): scene module + noise removal without noise
# estimation (the denoiser always runs) = the CVPR 2021 network, 3,438 params.
# Evaluated on MIT-Adobe FiveK as shipped by RUAS (data/MIT/{test,gt}).
# Weights: the CVPR 2021 checkpoints (KarelZhang/RUAS ckpt/*.pt, not
# shipped here), converted with
#   python tools/model_converters/ruas_official_to_mmfusenas.py \
#       SRC.pt ruas.pth --trust
# Enhance a folder:
#   python tools/enhance.py configs/ruas/ruas_mit.py CKPT \
#       --input DIR --out DIR [--gt DIR --metrics]
_base_ = [
    '../_base_/models/ruas.py',
    './_base_/lowlight_mit.py',
    '../_base_/default_runtime.py',
]

# metrics on the 8-bit outputs as saved by the official code (truncation)
model = dict(pred_quantize='floor')
