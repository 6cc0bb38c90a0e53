# Proxy-based bilevel training, the official alternating scheme
# (test / deblur: tools/test.py, tools/deblur.py)
# Guide: docs/methods/hyper_guidance.md
_base_ = [
    '../_base_/models/hqs_hyper_guidance.py',
    '../_base_/datasets/deblur_levin.py',
    '../_base_/schedules/schedule_hyper_guidance_100k.py',
    '../_base_/default_runtime.py',
]
restorer = {{_base_.model}}
model = dict(
    _delete_=True,
    type='ProxyBilevelAlgorithm',
    architecture=restorer,
    scheme='alternating')
adam = dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
optim_wrapper = dict(
    _delete_=True,
    constructor='BilevelOptimWrapperConstructor',
    # arch: the guidance optimizer (stage-1 proxy, guidance loss)
    arch=dict(type='OptimWrapper', optimizer=adam),
    # weights: the reconstruction optimizer (all weights)
    weights=dict(type='OptimWrapper', optimizer=adam))
default_hooks = dict(checkpoint=dict(interval=10000))
