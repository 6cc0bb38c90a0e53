"""A small mmdet detector config the toy benchmarks and reproductions
train (:func:`toy_retinanet`): no pretrained weights, nothing downloaded.
The tests' own small configs live in ``tests/helpers/task_models.py``."""


def toy_retinanet(num_classes: int) -> dict:
    """RetinaNet with ResNet-18 at 1/4 width, FPN strides 4-32, no pretrain
    (the detector of ``configs/tim/retinanet_ivif_fpn_toy.py``), as the toy
    benchmarks train it."""
    bc = 16
    return dict(
        type='RetinaNet',
        backbone=dict(
            type='ResNet',
            depth=18,
            base_channels=bc,
            out_indices=(0, 1, 2, 3),
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            init_cfg=None),
        neck=dict(
            type='FPN',
            in_channels=[bc, bc * 2, bc * 4, bc * 8],
            out_channels=64,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4),
        bbox_head=dict(
            type='RetinaHead',
            num_classes=num_classes,
            in_channels=64,
            stacked_convs=2,
            feat_channels=64,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=2,
                scales_per_octave=2,
                ratios=[0.5, 1.0, 2.0],
                strides=[4, 8, 16, 32]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
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
            max_per_img=100))
