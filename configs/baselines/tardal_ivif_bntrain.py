# TarDAL (tardal.pt): BatchNorm on batch statistics, as its script runs it
#   python tools/fuse.py CONFIG CKPT --ir IR --vi VI --out OUT
# Guide: docs/methods/fusion_baselines.md
_base_ = ['./tardal_ivif.py']

model = dict(fusion_net=dict(bn_mode='train'))
