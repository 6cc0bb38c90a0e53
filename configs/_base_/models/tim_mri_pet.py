# TIM, the official MRI-PET model (follows the code, not the paper)
# Guide: docs/methods/tim_networks.md
_base_ = ['./tim_ivif.py']

model = dict(
    fusion_net=dict(
        stage1=dict(input_order=(1, 0)),
        stage2=dict(
            merge='concat',
            input_order=(1, 0),
            first_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_3_1', 'Residualblocks_5_1']),
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_3_1', 'Residualblocks_5_1']),
            ],
            second_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['SepConv_3_1', 'Residualblocks_5_1']),
                dict(
                    type='SuccessiveCell',
                    ops=['SepConv_3_1', 'Residualblocks_5_1']),
            ])))
