# FusionSegmentor: TIM's stage-1 fusion network N_F feeding a real
# MMSegmentation FCN (dilated ResNetV1c-18 encoder, output stride 8, FCN
# decoder + FCN auxiliary head), as mmseg's fcn_r18-d8 configs: the model of
# ./fusion_deeplabv3plus_r18.py with the FCN decoder in place of the ASPP
# one. Loss = l_T (cross-entropy, decode + 0.4 aux) + eta * l_F. See
# docs/user_guides/task_guided.md. Multi-GPU: norm_cfg=dict(type='SyncBN').
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
