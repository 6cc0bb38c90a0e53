# TIM_w/L, the official latency-constrained IVIF model, on the toy data
# Guide: docs/methods/tim_networks.md
_base_ = [
    '../_base_/models/tim_ivif_light.py',
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]
