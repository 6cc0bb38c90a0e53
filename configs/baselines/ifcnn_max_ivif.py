# IFCNN-MAX with its official weights (CKPT: converted, see the guide)
#   python tools/fuse.py CONFIG CKPT --ir IR --vi VI --out OUT
# Guide: docs/methods/fusion_baselines.md
_base_ = [
    '../_base_/models/ifcnn_max.py',
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]
