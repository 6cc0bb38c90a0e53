# Toy sibling of deeplabv3plus_r18_msrs.py (N_F at 8 channels, R18/4)
# Guide: docs/user_guides/task_guided.md
_base_ = [
    '../_base_/models/fusion_deeplabv3plus_r18.py',
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
        decode_head=dict(
            in_channels=bc * 8,
            channels=32,
            dilations=(1, 2, 4, 6),
            c1_in_channels=bc,
            c1_channels=8,
            num_classes=5),
        auxiliary_head=dict(in_channels=bc * 4, channels=16, num_classes=5)))

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
