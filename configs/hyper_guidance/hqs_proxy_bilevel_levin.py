# Proxy-based bilevel training, the official scheme (main._train_divide):
# per iteration one Adam step of the guidance optimizer on
# 100 * MSE(sigma^_1, sigma) (stage-1 proxy only), then one Adam step of the
# reconstruction optimizer on MSE(x_5, x) (all weights).
#   python tools/train.py configs/hyper_guidance/hqs_proxy_bilevel_levin.py
#   python tools/test.py configs/hyper_guidance/hqs_proxy_bilevel_levin.py CKPT
#   python tools/deblur.py configs/hyper_guidance/hqs_proxy_bilevel_levin.py \
#       CKPT --input DIR --kernels DIR --out DIR
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
