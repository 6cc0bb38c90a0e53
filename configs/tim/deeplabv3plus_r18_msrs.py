# Task-guided infrared-visible fusion with a real MMSegmentation DeepLabV3+
# (dilated ResNetV1c-18): TIM's stage-1 N_F feeds the segmentor and both are
# trained on l_T + eta * l_F; validation reports mIoU and the fusion
# metrics, and the fused images are written next to the logs.
#
# Data (docs/user_guides/task_guided.md): MSRS under data/MSRS/{train,test}/ with
# Infrared/, Visible/, Segmentation_labels/ (9 classes).
#   python tools/train.py configs/tim/deeplabv3plus_r18_msrs.py
# No data? Run the toy sibling: configs/tim/deeplabv3plus_r18_msrs_toy.py.
# Start from a trained N_F: --cfg-options model.fusion_init=PATH
# custom_hooks.0.warmup=0. The backbone starts from scratch
# (set init_cfg to a local resnet18_v1c checkpoint; nothing is downloaded).
_base_ = [
    '../_base_/models/fusion_deeplabv3plus_r18.py',
    '../_base_/datasets/msrs_seg.py',
    '../_base_/schedules/schedule_task_guided_20k.py',
    '../_base_/default_runtime.py',
]

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=1000),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=2000))
