# TIM's two-stage model for visual enhancement (Sec. 4.2): N_F fixed
# (fusion_M), N_T searched (docs/methods/tim.md)
tim_nt_ops = [
    'Denseblocks_3_1', 'Residualblocks_3_1', 'Residualblocks_5_1',
    'DilConv_3_2', 'SepConv_3_1', 'ECAattention_3', 'SPAattention_3'
]

tim_nf = dict(
    type='TIMFusionNet',
    channels=48,
    in_channels=2,
    cells=[
        dict(
            type='MultiScaleFusionCell',
            ops=['Residualblocks_3_1', 'DilConv_3_2']),
        dict(type='SuccessiveCell', ops=['Denseblocks_3_1', 'DilConv_3_2']),
    ])

tim_nt_first_cell = dict(
    type='SuccessiveCell',
    ops=[
        dict(type='DiffMixedOp', key='nt/first/op0', candidates=tim_nt_ops),
        dict(type='DiffMixedOp', key='nt/first/op1', candidates=tim_nt_ops),
    ])
tim_nt_second_cell = dict(
    type='SuccessiveCell',
    ops=[
        dict(type='DiffMixedOp', key='nt/second/op0', candidates=tim_nt_ops),
        dict(type='DiffMixedOp', key='nt/second/op1', candidates=tim_nt_ops),
    ])
tim_nt_space_ivif = dict(
    type='TIMEnhanceNet',
    channels=48,
    merge='mask',
    input_order=(1, 0),
    first_cells=[tim_nt_first_cell, tim_nt_first_cell],
    second_cells=[tim_nt_second_cell, tim_nt_second_cell])
tim_nt_space_medical = dict(
    type='TIMEnhanceNet',
    channels=48,
    merge='concat',
    input_order=None,
    first_cells=[tim_nt_first_cell, tim_nt_first_cell],
    second_cells=[tim_nt_second_cell, tim_nt_second_cell])
tim_branch_names = ('detail', 'target')
