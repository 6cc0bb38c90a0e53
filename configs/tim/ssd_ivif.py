# Task-guided infrared-visible fusion with a real MMDetection SSD300
# (ResNet-18 backbone, mmdet's SSDNeck, mmfusenas.CompatSSDHead): TIM's
# stage-1 N_F feeds the detector and both are trained on l_T + eta * l_F;
# validation reports COCO bbox mAP and the fusion metrics.
#
# Data: M3FD under data/M3FD/ (see retinanet_ivif.py and
# docs/user_guides/task_guided.md), resized to 300x300 as SSD300 does.
#   python tools/train.py configs/tim/ssd_ivif.py
# No data? Run the toy sibling: configs/tim/ssd_ivif_toy.py.
_base_ = [
    '../_base_/models/fusion_ssd_r18.py',
    '../_base_/datasets/m3fd_det.py',
    '../_base_/schedules/schedule_task_guided_20k.py',
    '../_base_/default_runtime.py',
]

img_scale = (300, 300)
train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=img_scale),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedResize', scale=img_scale),
    dict(type='PackFusionDetInputs'),
]
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=1000),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=2000))
