# FusionSegmentor: TIM's N_F in front of mmseg FCN R18-D8
# Guide: docs/user_guides/task_guided.md
_base_ = ['./fusion_deeplabv3plus_r18.py']

model = dict(
    segmentor=dict(
        decode_head=dict(
            _delete_=True,
            type='FCNHead',
            in_channels=512,
            in_index=3,
            channels=128,
            num_convs=2,
            concat_input=True,
            dropout_ratio=0.1,
            num_classes=_base_.num_classes,
            norm_cfg=_base_.norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False,
                loss_weight=1.0))))
