# Toy sibling of fcn_r18_mfnet.py (the toy set stands in for MFNet)
# Guide: docs/user_guides/task_guided.md
_base_ = [
    '../_base_/models/fusion_fcn_r18.py',
    '../_base_/datasets/toy_seg.py',
    '../_base_/schedules/schedule_task_guided_toy.py',
    '../_base_/default_runtime.py',
]

bc = 16  # ResNetV1c-18 at 1/4 width: levels of 16, 32, 64, 128 channels
model = dict(
    fusion_net=dict(channels=8),
    fusion_losses=_base_.tim_fusion_losses_toy,
    segmentor=dict(
        backbone=dict(stem_channels=bc, base_channels=bc, init_cfg=None),
        decode_head=dict(in_channels=bc * 8, channels=32, num_classes=5),
        auxiliary_head=dict(in_channels=bc * 4, channels=16, num_classes=5)))

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
