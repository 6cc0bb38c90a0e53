# Toy sibling of retinanet_ivif_fpn.py (N_F at 8 channels, R18/4, 128 px);
# many toy configs build on it (docs/user_guides/task_guided.md)
_base_ = [
    '../_base_/models/fusion_retinanet_r18.py',
    '../_base_/datasets/toy_det.py',
    '../_base_/schedules/schedule_task_guided_toy.py',
    '../_base_/default_runtime.py',
]

bc = 16  # ResNet-18 at 1/4 width: levels of 16, 32, 64, 128 channels
model = dict(
    fusion_net=dict(channels=8),
    fusion_losses=_base_.tim_fusion_losses_toy,
    detector=dict(
        backbone=dict(
            base_channels=bc, frozen_stages=-1, norm_eval=False,
            init_cfg=None),
        neck=dict(
            in_channels=[bc, bc * 2, bc * 4, bc * 8],
            out_channels=64,
            start_level=0,
            num_outs=4),
        bbox_head=dict(
            num_classes=4,
            in_channels=64,
            stacked_convs=2,
            feat_channels=64,
            anchor_generator=dict(
                octave_base_scale=2,
                scales_per_octave=2,
                strides=[4, 8, 16, 32]),
            bbox_coder=dict(target_stds=[0.1, 0.1, 0.2, 0.2]))))

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=50),  # = schedule's warmup_iters
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100))
