# TIM, official latency-constrained IVIF model ("light", the paper's TIM_w/L,
# 127,358 params; IVIF/testFusion_light.py): stage 1 only,
# Network_Fusion9_Meta with [Cell_Chain2, Cell_Chain2] and genotype
# fusion_light. No multi-scale cell, so any H, W works.
# The script calls model_1(vis, ir): with sources stacked as (ir, vi) the
# network swaps them (input_order=(1, 0)). The output has no activation
# (predictions are clamped to [0, 1]).
# Network: ../_base_/models/tim_ivif_light.py.
_base_ = [
    '../_base_/models/tim_ivif_light.py',
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]
