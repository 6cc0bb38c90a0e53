# Toy sibling of retinanet_ivif_direct.py (docs/user_guides/task_guided.md)
_base_ = './retinanet_ivif_fpn_toy.py'

fusion_iters = 300  # N_F alone; = warm-up + joint iterations of the toy run
task_iters = 250  # the RetinaNet's iterations, as in retinanet_ivif_fpn_toy.py
max_iters = fusion_iters + task_iters
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=fusion_iters,
        end=fusion_iters + 20),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=fusion_iters + 20,
        end=max_iters,
        T_max=task_iters - 20,
        eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters)

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=fusion_iters),
    dict(type='FreezeFusionHook', begin=fusion_iters),
    dict(type='FusedImageSaveHook'),
]
