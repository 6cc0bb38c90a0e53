# "Naive" training (official meta_stack): reconstruction loss only
# Guide: docs/methods/hyper_guidance.md
_base_ = [
    '../_base_/models/hqs_hyper_guidance.py',
    '../_base_/datasets/deblur_levin.py',
    '../_base_/schedules/schedule_hyper_guidance_100k.py',
    '../_base_/default_runtime.py',
]
model = dict(guidance_weight=0.0)
default_hooks = dict(checkpoint=dict(interval=10000))
