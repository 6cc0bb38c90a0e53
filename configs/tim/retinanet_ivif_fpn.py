# Task-guided fusion: TIM's N_F + RetinaNet R18 with mmdet's FPN on M3FD
# Guide: docs/user_guides/task_guided.md
_base_ = [
    '../_base_/models/fusion_retinanet_r18.py',
    '../_base_/datasets/m3fd_det.py',
    '../_base_/schedules/schedule_task_guided_20k.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=1000),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=2000))
