# Direct-fusion baseline of retinanet_ivif_toy.py (TIM Table 10 on toy
# data): the same model, data and budget, but N_F is trained alone on l_F
# during the 50-iteration warm-up and then frozen while the RetinaNet learns
# on its output. Compare coco/bbox_mAP of the two runs; a controlled
# comparison over seeds is benchmarks/bench_task_guidance.py.
#   python tools/train.py configs/tim/retinanet_ivif_direct_toy.py
_base_ = './retinanet_ivif_toy.py'

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),
    dict(type='FreezeFusionHook', begin=50),
    dict(type='FusedImageSaveHook'),
]
