# Task-guided RGB-T fusion: TIM's N_F + FCN R18 on MFNet, l_T + eta l_F
# Guide: docs/user_guides/task_guided.md
_base_ = [
    '../_base_/models/fusion_fcn_r18.py',
    '../_base_/datasets/mfnet_seg.py',
    '../_base_/schedules/schedule_task_guided_20k.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=1000),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=2000))
