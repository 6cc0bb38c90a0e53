# FusionSegmentor: TIM's N_F in front of mmseg DeepLabV3+ R18-D8
# Guide: docs/user_guides/task_guided.md
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
