# "Direct fusion" baseline (TIM Table 10): N_F trained alone, then frozen
# under the detector (as many updates each as retinanet_ivif_fpn.py)
# Guide: docs/user_guides/task_guided.md
_base_ = './retinanet_ivif_fpn.py'

fusion_iters = 20000  # N_F alone; = warm-up + joint iterations there
task_iters = 19000  # the RetinaNet's iterations there
max_iters = fusion_iters + task_iters
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.001,
        by_epoch=False,
        begin=fusion_iters,
        end=fusion_iters + 500),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        # 13k and 17k detector iterations, as 14k / 18k there
        milestones=[fusion_iters + 13000, fusion_iters + 17000],
        gamma=0.1),
]
train_cfg = dict(max_iters=max_iters)

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=fusion_iters),
    dict(type='FreezeFusionHook', begin=fusion_iters),
    dict(type='FusedImageSaveHook'),
]
