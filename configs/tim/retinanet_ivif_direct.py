# "Direct fusion" baseline of retinanet_ivif_fpn.py (TIM Table 10): the same
# model and data, but N_F is trained ALONE on l_F for 20k iterations -- as
# many updates as N_F gets in retinanet_ivif_fpn.py (1000 warm-up + 19k joint)
# -- and then FROZEN while the RetinaNet learns on its fused output for 19k
# iterations with the same (shifted) schedule as there: 39k iterations in
# all.
#   python tools/train.py configs/tim/retinanet_ivif_direct.py
# With an N_F trained elsewhere (e.g. configs/tim/fusion_ivif_m3fd.py):
#   --cfg-options model.fusion_init=PATH model.freeze_fusion=True \
#       custom_hooks.0.warmup=0 custom_hooks.1.begin=0 (and a 19k schedule)
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
        # 13k and 17k detector iterations, as at 14k / 18k in
        # retinanet_ivif.py (whose detector starts at 1k)
        milestones=[fusion_iters + 13000, fusion_iters + 17000],
        gamma=0.1),
]
train_cfg = dict(max_iters=max_iters)

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=fusion_iters),
    dict(type='FreezeFusionHook', begin=fusion_iters),
    dict(type='FusedImageSaveHook'),
]
