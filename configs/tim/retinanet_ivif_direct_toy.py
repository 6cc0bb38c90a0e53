# Direct-fusion baseline of retinanet_ivif_fpn_toy.py (TIM Table 10 on toy
# data): the same model and data, but N_F is trained ALONE on l_F for 300
# iterations -- as many updates as N_F gets in retinanet_ivif_fpn_toy.py
# (50 warm-up + 250 joint) -- and then frozen while the RetinaNet learns on
# its fused output for 250 iterations with the same schedule as there
# (550 iterations in all). Compare coco/bbox_mAP of the two runs; the
# controlled comparison over seeds is projects/reproductions/bench_task_guidance.py.
#   python tools/train.py configs/tim/retinanet_ivif_direct_toy.py
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
