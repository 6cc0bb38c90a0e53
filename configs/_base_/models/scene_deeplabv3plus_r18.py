# RUAS low-light segmentation (TPAMI 2022 Sec. 5 / 7.2): the RUAS scene
# module in front of a real mmseg DeepLabV3+ (ResNetV1c-18, output stride 8)
# whose feature conversion -- the ASPP branches between the encoder and the
# decoder -- is the searched task cell (SearchableASPPHead). Fixed here to
# DeepLabV3+'s own choice expressed in Table 1's ops (1x1 + 3x3 at dilations
# 6 / 12 / 18, the 3-k-DC ops); the search configs put a DiffMixedOp
# template in its place.
_base_ = ['./ruas_scene.py']

norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 19  # Cityscapes train ids
model = dict(
    type='SceneSegmentor',
    # mmseg SegDataPreProcessor: BGR uint8 -> RGB in [0, 1], padded to 32
    # (labels with 255), also at test time
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
        _scope_='mmseg',
        type='EncoderDecoder',
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=norm_cfg,
            norm_eval=False,
            style='pytorch',
            contract_dilation=True,
            # nothing is downloaded: set a LOCAL checkpoint here, e.g.
            # init_cfg=dict(type='Pretrained',
            # checkpoint='checkpoints/resnet18_v1c.pth'); None = from scratch
            init_cfg=None),
        decode_head=dict(
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
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False,
                loss_weight=1.0)),
        auxiliary_head=dict(
            type='FCNHead',
            in_channels=256,
            in_index=2,
            channels=64,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=num_classes,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False,
                loss_weight=0.4)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole')))
