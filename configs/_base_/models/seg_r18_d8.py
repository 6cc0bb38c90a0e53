# The MMSegmentation segmentor the task-guided segmentation models put behind
# their pre-module: a real mmseg DeepLabV3+ (dilated ResNetV1c-18, output
# stride 8, depthwise-separable ASPP decoder + FCN auxiliary head), as
# mmseg's deeplabv3plus_r18-d8 configs; loss: cross-entropy, decode + 0.4 aux.
# Only `model.segmentor` (merged into the child's model) and the variables
# its heads read:
#   fusion_deeplabv3plus_r18.py   TIM's N_F in front (num_classes = 9)
#   fusion_fcn_r18.py             the same with mmseg's FCN decoder
#   scene_deeplabv3plus_r18.py    the RUAS scene module in front, the ASPP
#                                 branches searched (num_classes = 19)
# A child with another num_classes sets it in both heads. Multi-GPU:
# norm_cfg=dict(type='SyncBN').
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 19  # Cityscapes train ids (mmseg's default)

model = dict(
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
            # nothing is downloaded: set a LOCAL ImageNet checkpoint of
            # resnet18_v1c here, e.g. init_cfg=dict(type='Pretrained',
            # checkpoint='checkpoints/resnet18_v1c.pth'); None = from scratch
            init_cfg=None),
        decode_head=dict(
            type='DepthwiseSeparableASPPHead',
            in_channels=512,
            in_index=3,
            channels=128,
            dilations=(1, 12, 24, 36),
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
