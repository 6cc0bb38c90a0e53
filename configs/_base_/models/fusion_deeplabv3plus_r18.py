# FusionSegmentor: TIM's stage-1 fusion network N_F feeding a real
# MMSegmentation DeepLabV3+ (dilated ResNetV1c-18, output stride 8,
# depthwise-separable ASPP decoder + FCN auxiliary head; ./seg_r18_d8.py),
# as mmseg's deeplabv3plus_r18-d8 configs. The fused Y gets the VIS chroma
# back and is normalised with the ImageNet mean / std ([0, 255] units);
# loss = l_T (cross-entropy, decode + 0.4 aux) + eta * l_F. See
# docs/user_guides/task_guided.md. Multi-GPU: norm_cfg=dict(type='SyncBN').
#
# DeepLabV3 instead of V3+: decode_head=dict(_delete_=True,
# type='ASPPHead', in_channels=512, in_index=3, channels=128,
# dilations=(1, 12, 24, 36), ...). Another backbone: e.g. ResNetV1c-50
# (depth=50, decode in_channels=2048, c1_in_channels=256, aux
# in_channels=1024) or mmseg's MobileNetV2 (out_indices=(1, 2, 4, 6),
# channels 24, 32, 96, 320).
_base_ = [
    './tim_fusion_losses.py', './tim_fusion_net.py', './seg_r18_d8.py'
]

num_classes = 9

model = dict(
    type='FusionSegmentor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=8),
    fusion_net=_base_.tim_fusion_net,
    fusion_losses=_base_.tim_fusion_losses,
    fusion_loss_weight=0.5,
    fused_color='rgb',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    fusion_init=None,
    freeze_fusion=False,
    segmentor=dict(
        decode_head=dict(num_classes=num_classes),
        auxiliary_head=dict(num_classes=num_classes)))
