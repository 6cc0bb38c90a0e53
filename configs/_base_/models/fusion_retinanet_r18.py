# FusionDetector: TIM's stage-1 fusion network N_F (genotype fusion_M, the
# network of configs/tim/fusion_ivif_*.py and pmi_fusion.py, so their
# checkpoints load with `fusion_init`) feeding a real MMDetection RetinaNet
# (ResNet-18, FPN P3-P7). The fused Y gets the VIS chroma back and is
# normalised with the ImageNet mean / std ([0, 255] units) before the
# detector; loss = l_T (focal + L1) + eta * l_F. See docs/user_guides/task_guided.md.
#
# Other backbones are a config change (`model.detector.backbone` and the
# FPN's `in_channels`); tested recipes: configs/tim/retinanet_r50_ivif.py
# (ResNet-50), configs/tim/retinanet_mobilenetv2_ivif.py (MobileNetV2, with
# `_delete_=True`, out_indices=(2, 4, 6), FPN start_level=0, num_outs=5) and
# their toy siblings (*_ivif_toy.py: four anchor strides, so four FPN
# outputs). See docs/user_guides/task_guided.md "Other backbones".
_base_ = ['./tim_fusion_losses.py', './tim_fusion_net.py']

model = dict(
    type='FusionDetector',
    # pads H, W to a multiple of 32 (the detector's largest stride; also a
    # multiple of the 4 the multi-scale fusion cell needs)
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=32),
    fusion_net=_base_.tim_fusion_net,
    # l_F of TIM (Sec. 4.2), as in configs/tim/fusion_ivif_tno.py
    fusion_losses=_base_.tim_fusion_losses,
    fusion_loss_weight=0.5,  # eta
    fused_color='rgb',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    # e.g. 'work_dirs/fusion_ivif_m3fd/iter_10000.pth' or a PMI
    # 'work_dirs/pmi_fusion/pmi_init.pth'
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
            frozen_stages=1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=True,
            style='pytorch',
            # nothing is downloaded: set a LOCAL ImageNet checkpoint of
            # resnet18 here, e.g. init_cfg=dict(type='Pretrained',
            # checkpoint='checkpoints/resnet18.pth'); None = from scratch
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
