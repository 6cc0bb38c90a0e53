# RUAS scene module + DeepLabV3+ R18 whose ASPP branches are the task cell
# Guide: docs/methods/ruas_search_tasks.md
_base_ = ['./ruas_scene.py', './seg_r18_d8.py']

num_classes = 19  # Cityscapes train ids (as the base)
model = dict(
    type='SceneSegmentor',
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        size_divisor=32,
        pad_val=0,
        seg_pad_val=255,
        test_cfg=dict(size_divisor=32)),
    scene_net={{_base_.ruas_scene_net}},
    scene_losses={{_base_.ruas_scene_losses}},
    scene_loss_weight=0.1,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    scene_init=None,
    freeze_scene=False,
    segmentor=dict(
        decode_head=dict(
            _delete_=True,
            type='mmfusenas.SearchableASPPHead',
            in_channels=512,
            in_index=3,
            channels=128,
            num_branches=4,
            ops=['1-C', '3-6-DC', '3-12-DC', '3-18-DC'],
            c1_in_channels=64,
            c1_channels=12,
            dropout_ratio=0.1,
            num_classes=num_classes,
            norm_cfg=_base_.norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False,
                loss_weight=1.0))))
