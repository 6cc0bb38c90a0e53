# search_retinanet_ivif_toy.py at the 128 px headline scale (an
# alternative, not better than the 64 px proxy)
# Guide: docs/methods/tim_neck_search.md
_base_ = './search_retinanet_ivif_toy.py'

search_pipeline = _base_.train_pipeline
model = dict(
    architecture=dict(
        detector=dict(
            bbox_head=dict(
                anchor_generator=dict(octave_base_scale=2)))))
train_dataloader = dict(dataset=dict(pipeline=search_pipeline))

search_iters = 200
warmup_iters = 40
train_cfg = dict(
    arch_dataloader=dict(dataset=dict(pipeline=search_pipeline)),
    max_iters=search_iters,
    val_interval=search_iters)
param_scheduler = dict(weights=[
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=search_iters,
         eta_min=1e-5)
])
custom_hooks = [
    dict(_base_.custom_hooks[0],
         stages=[dict(begin=0, end=warmup_iters, keys=[]),
                 dict(begin=warmup_iters)]),
    *_base_.custom_hooks[1:],
]
default_hooks = dict(checkpoint=dict(interval=100))
