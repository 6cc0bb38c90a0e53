# TIM's stage-1 fusion network N_F as the fusion + task models put it in front
# of their detector / segmentor (fusion_retinanet_r18.py, fusion_ssd_r18.py,
# fusion_deeplabv3plus_r18.py -> fusion_fcn_r18.py): 48 channels, the
# multi-scale fusion cell then the successive cell of TIM's searched IVIF
# genotype (Residualblocks_3_1 / DilConv_3_2, Denseblocks_3_1 / DilConv_3_2),
# on the stacked (ir, vi_y) pair.
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
