# TarDAL++ / TarDAL+, official weights converted (tardal.pt: _bntrain)
#   python tools/fuse.py CONFIG CKPT --ir IR --vi VI --out OUT
# Guide: docs/methods/fusion_baselines.md
_base_ = [
    '../_base_/models/tardal.py',
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]
