# Hand-crafted reference: choose-max (CKPT: an empty one, see the guide)
#   python tools/fuse.py CONFIG CKPT --ir IR --vi VI --out OUT
# Guide: docs/methods/fusion_baselines.md
_base_ = [
    '../_base_/datasets/ivif_fusion.py',
    '../_base_/default_runtime.py',
]

model = dict(type='ImageFusor', fusion_net=dict(type='MaxAbsRuleFusion'))
