# TIM, official two-stage IVIF model (1,232,225 params) on the embedded toy
# IR/VIS data (sources stacked as (ir, vi)).
# python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
# python tools/train.py configs/tim/fusion_ivif_official.py
_base_ = [
    '../_base_/models/tim_ivif.py',
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]
