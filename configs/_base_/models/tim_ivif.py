# TIM, the official two-stage IVIF model (docs/methods/tim_networks.md);
# stand-in unsupervised losses (the official ones are not public)
_base_ = ['./tim_fusion_net.py']

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=dict(
        type='TIMTwoStageFusionNet',
        stage1=dict(_base_.tim_fusion_net, input_order=(0, 1)),
        stage2=dict(
            type='TIMEnhanceNet',
            channels=48,
            merge='mask',
            input_order=(1, 0),
            first_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['ECAattention_3', 'SPAattention_3']),
                dict(
                    type='SuccessiveCell',
                    ops=['ECAattention_3', 'SPAattention_3']),
            ],
            second_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['SPAattention_3', 'DilConv_3_2']),
                dict(
                    type='SuccessiveCell',
                    ops=['SPAattention_3', 'DilConv_3_2']),
            ])),
    losses=[
        dict(type='MaxIntensityLoss', loss_weight=1.0),
        dict(type='MaxGradientLoss', loss_weight=2.0),
    ])
