# TIM, the official MRI-SPECT model (the official genotype names are crossed)
# Guide: docs/methods/tim_networks.md
_base_ = ['./tim_ivif.py']

model = dict(
    fusion_net=dict(
        stage1=dict(input_order=(0, 1)),
        stage2=dict(
            merge='concat',
            input_order=(0, 1),
            first_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_3_1', 'SPAattention_3']),
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_3_1', 'SPAattention_3']),
            ],
            second_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_5_1', 'Denseblocks_3_1']),
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_5_1', 'Denseblocks_3_1']),
            ])))
