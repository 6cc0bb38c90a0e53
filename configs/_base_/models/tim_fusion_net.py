# TIM's official stage-1 fusion network N_F (genotype fusion_M, C = 48),
# one definition for every fusion task (docs/methods/tim_networks.md)
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
