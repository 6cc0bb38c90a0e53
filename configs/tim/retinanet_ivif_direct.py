# "Direct fusion" baseline of retinanet_ivif.py (TIM Table 10): the same
# model, data and budget, but N_F is trained alone on l_F during the
# 1000-iteration warm-up and then FROZEN while the RetinaNet learns on its
# fused output; in retinanet_ivif.py N_F keeps training with the task loss.
#   python tools/train.py configs/tim/retinanet_ivif_direct.py
# With an N_F trained to convergence elsewhere (e.g. fusion_ivif_m3fd.py),
# give both configs model.fusion_init=PATH and custom_hooks.0.warmup=0
# (here also custom_hooks.1.begin=0).
_base_ = './retinanet_ivif.py'

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=1000),
    dict(type='FreezeFusionHook', begin=1000),
    dict(type='FusedImageSaveHook'),
]
