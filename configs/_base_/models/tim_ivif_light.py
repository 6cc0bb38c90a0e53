# TIM_w/L, the official latency-constrained IVIF model
# Guide: docs/methods/tim_networks.md
model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=1),
    fusion_net=dict(
        type='TIMFusionNet',
        channels=48,
        in_channels=2,
        input_order=(1, 0),
        cells=[
            dict(
                type='SuccessiveCell',
                ops=['Residualblocks_3_1', 'ECAattention_3']),
            dict(
                type='SuccessiveCell',
                ops=['Residualblocks_3_1', 'ECAattention_3']),
        ]),
    losses=[
        dict(type='MaxIntensityLoss', loss_weight=1.0),
        dict(type='MaxGradientLoss', loss_weight=2.0),
    ])
