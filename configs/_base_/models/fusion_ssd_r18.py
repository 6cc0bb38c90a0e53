# FusionDetector: TIM's N_F in front of SSD300 with a ResNet-18 backbone
# Guide: docs/user_guides/task_guided.md
_base_ = ['./tim_fusion_losses.py', './tim_fusion_net.py']

input_size = 300

model = dict(
    type='FusionDetector',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=_base_.tim_fusion_net,
    fusion_losses=_base_.tim_fusion_losses,
    fusion_loss_weight=0.5,
    fused_color='rgb',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    fusion_init=None,
    freeze_fusion=False,
    detector=dict(
        _scope_='mmdet',
        type='SingleStageDetector',
        backbone=dict(
            type='ResNet',
            depth=18,
            num_stages=4,
            out_indices=(1, 2, 3),
            # ImageNet init_cfg: mmdet's frozen_stages=1, norm_eval=True
            frozen_stages=-1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            style='pytorch',
            # from scratch; pretrained: a local checkpoint (nothing downloads)
            init_cfg=None),
        neck=dict(
            type='SSDNeck',
            in_channels=(128, 256, 512),
            out_channels=(128, 256, 512, 256, 256, 256),
            level_strides=(2, 2, 1),
            level_paddings=(1, 1, 0),
            l2_norm_scale=20),
        bbox_head=dict(
            type='mmfusenas.CompatSSDHead',
            in_channels=(128, 256, 512, 256, 256, 256),
            num_classes=6,
            anchor_generator=dict(
                type='SSDAnchorGenerator',
                scale_major=False,
                input_size=input_size,
                basesize_ratio_range=(0.15, 0.9),
                strides=[8, 16, 32, 64, 100, 300],
                ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[0.1, 0.1, 0.2, 0.2])),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.,
                ignore_iof_thr=-1,
                gt_max_assign_all=False),
            sampler=dict(type='PseudoSampler'),
            smoothl1_beta=1.,
            allowed_border=-1,
            pos_weight=-1,
            neg_pos_ratio=3,
            debug=False),
        test_cfg=dict(
            nms_pre=1000,
            nms=dict(type='nms', iou_threshold=0.45),
            min_bbox_size=0,
            score_thr=0.02,
            max_per_img=200)))
