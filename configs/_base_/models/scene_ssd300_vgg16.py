# RUAS low-light detection (TPAMI 2022 Sec. 5 / 7.1): the RUAS scene module in
# front of a real mmdet SSD300 (VGG16) whose neck extra layers and head convs
# are the searched task cell (SearchableSSDNeck / SearchableSSDHead, fixed
# here to the official detection genotype; the search configs put
# DiffMixedOp templates in their place). The detector sees
# (255 * u - mean) / std with mmdet SSD300's mean and std = 1 (the official
# network feeds 255 * u - (123, 117, 104)).
_base_ = ['./ruas_scene.py']

input_size = 300
num_classes = 12  # ExDark
ssd_levels = (512, 1024, 512, 256, 256, 256)
model = dict(
    type='SceneDetector',
    # mmdet DetDataPreprocessor: BGR uint8 -> RGB in [0, 1], padded to 32
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    scene_net={{_base_.ruas_scene_net}},
    scene_losses={{_base_.ruas_scene_losses}},
    # lambda of l_t + lambda * l_s (end to end; see RUASTrainingStrategyHook)
    scene_loss_weight=0.1,
    mean=[123.675, 116.28, 103.53],
    std=[1., 1., 1.],
    scene_init=None,
    freeze_scene=False,
    detector=dict(
        _scope_='mmdet',
        type='SingleStageDetector',
        backbone=dict(
            type='SSDVGG',
            depth=16,
            with_last_pool=False,
            ceil_mode=True,
            out_indices=(3, 4),
            out_feature_indices=(22, 34),
            # nothing is downloaded: set a LOCAL checkpoint here, e.g.
            # init_cfg=dict(type='Pretrained',
            # checkpoint='checkpoints/vgg16_caffe.pth'); None = from scratch
            init_cfg=None),
        neck=dict(
            type='mmfusenas.SearchableSSDNeck',
            in_channels=(512, 1024),
            out_channels=ssd_levels,
            level_strides=(2, 2, 1, 1),
            level_paddings=(1, 1, 0, 0),
            l2_norm_scale=20,
            ops={{_base_.ruas_det_neck_genotype}}),
        bbox_head=dict(
            type='mmfusenas.SearchableSSDHead',
            in_channels=ssd_levels,
            num_classes=num_classes,
            ops={{_base_.ruas_det_head_genotype}},
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
