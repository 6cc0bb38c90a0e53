# FusionSegmentor: TIM's stage-1 fusion network N_F feeding a real
# MMSegmentation FCN (dilated ResNetV1c-18 encoder, output stride 8, FCN
# decoder + FCN auxiliary head), as mmseg's fcn_r18-d8 configs. Loss =
# l_T (cross-entropy, decode + 0.4 aux) + eta * l_F. See
# docs/task_guided.md. Multi-GPU: norm_cfg=dict(type='SyncBN').
_base_ = ['./tim_fusion_losses.py']

tim_fusion_net = dict(
    type='TIMFusionNet',
    channels=48,
    in_channels=2,
    cells=[
        dict(
            type='MultiScaleFusionCell',
            ops=['Residualblocks_3_1', 'DilConv_3_2']),
        dict(type='SuccessiveCell', ops=['Denseblocks_3_1', 'DilConv_3_2']),
    ])
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 9

model = dict(
    type='FusionSegmentor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=8),
    fusion_net=tim_fusion_net,
    fusion_losses=_base_.tim_fusion_losses,
    fusion_loss_weight=0.5,
    fused_color='rgb',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    fusion_init=None,
    freeze_fusion=False,
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
            type='FCNHead',
            in_channels=512,
            in_index=3,
            channels=128,
            num_convs=2,
            concat_input=True,
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
