# "Naive" training of the same network (the paper's training-strategy
# comparison, official meta_stack): end-to-end on the reconstruction loss
# only, no supervision of the proxies (guidance_weight 0).
#   python tools/train.py configs/hyper_guidance/hqs_proxy_naive_levin.py
_base_ = [
    '../_base_/models/hqs_hyper_guidance.py',
    '../_base_/datasets/deblur_levin.py',
    '../_base_/schedules/schedule_hyper_guidance_100k.py',
    '../_base_/default_runtime.py',
]
model = dict(guidance_weight=0.0)
default_hooks = dict(checkpoint=dict(interval=10000))
