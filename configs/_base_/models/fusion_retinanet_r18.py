# FusionDetector: TIM's N_F in front of mmdet RetinaNet R18 + FPN
# Guide (and other backbones): docs/user_guides/task_guided.md
_base_ = ['./tim_fusion_losses.py', './tim_fusion_net.py']

model = dict(
    type='FusionDetector',
    # pad to the detector's largest stride
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=32),
    fusion_net=_base_.tim_fusion_net,
    fusion_losses=_base_.tim_fusion_losses,
    fusion_loss_weight=0.5,  # eta
    fused_color='rgb',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    fusion_init=None,
    freeze_fusion=False,
    detector=dict(
        _scope_='mmdet',
        type='RetinaNet',
        backbone=dict(
            type='ResNet',
            depth=18,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            # ImageNet init_cfg: mmdet's frozen_stages=1, norm_eval=True
            frozen_stages=-1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            style='pytorch',
            # from scratch; pretrained: a local checkpoint (nothing downloads)
            init_cfg=None),
        neck=dict(
            type='FPN',
            in_channels=[64, 128, 256, 512],
            out_channels=256,
            start_level=1,
            add_extra_convs='on_input',
            num_outs=5),
        bbox_head=dict(
            type='RetinaHead',
            num_classes=6,
            in_channels=256,
            stacked_convs=4,
            feat_channels=256,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=4,
                scales_per_octave=3,
                ratios=[0.5, 1.0, 2.0],
                strides=[8, 16, 32, 64, 128]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(
                type='FocalLoss',
                use_sigmoid=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.4,
                min_pos_iou=0,
                ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        test_cfg=dict(
            nms_pre=1000,
            min_bbox_size=0,
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100)))
