# Toy sibling of ssd_ivif.py (128 px; anchor sizes for the small toy objects)
# Guide: docs/user_guides/task_guided.md
_base_ = [
    '../_base_/models/fusion_ssd_r18.py',
    '../_base_/datasets/toy_det.py',
    '../_base_/schedules/schedule_task_guided_toy.py',
    '../_base_/default_runtime.py',
]

bc = 16  # ResNet-18 at 1/4 width: C3-C5 with 32, 64, 128 channels
levels = (bc * 2, bc * 4, bc * 8, 64, 64)
model = dict(
    fusion_net=dict(channels=8),
    fusion_losses=_base_.tim_fusion_losses_toy,
    detector=dict(
        backbone=dict(
            base_channels=bc, frozen_stages=-1, norm_eval=False,
            init_cfg=None),
        neck=dict(
            in_channels=levels[:3],
            out_channels=levels,
            level_strides=(2, 2),
            level_paddings=(1, 1)),
        bbox_head=dict(
            in_channels=levels,
            num_classes=4,
            anchor_generator=dict(
                _delete_=True,
                type='SSDAnchorGenerator',
                scale_major=False,
                input_size=128,
                strides=[8, 16, 32, 64, 128],
                ratios=[[2], [2, 3], [2, 3], [2], [2]],
                min_sizes=[8, 20, 40, 64, 96],
                max_sizes=[20, 40, 64, 96, 128]))))

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
