# Task-guided RGB-thermal fusion with a real MMSegmentation FCN (dilated
# ResNetV1c-18 encoder + FCN decoder): TIM's stage-1 N_F feeds the
# segmentor and both are trained on l_T + eta * l_F; validation reports
# mIoU and the fusion metrics.
#
# Data (docs/user_guides/task_guided.md): MFNet under data/MFNet/ -- images/ (4-channel
# RGB-T PNGs), labels/, train.txt, val.txt, test.txt (9 classes).
#   python tools/train.py configs/tim/fcn_r18_mfnet.py
# No data? Run the toy sibling: configs/tim/fcn_r18_mfnet_toy.py.
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
