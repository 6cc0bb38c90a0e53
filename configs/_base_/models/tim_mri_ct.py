# TIM, official MRI-CT model (MmIF/test_fusion_Medical_ct.py; 1,229,976
# params): stage 1 as for IVIF (fusion_M), stage 2 Network_Fusion9_2
# ('concat' merge, tanh output) with genotypes [fusion_mri, fusion_ct].
# The script calls model_1(mri, ct) and model_2(mri, ct, f): no swap for
# sources stacked as (mri, ct). Note the official names are crossed: the
# MRI branch (first, official cells3) uses fusion_ct, the CT branch
# (second, cells2) uses fusion_mri.
# One definition for the official config (fusion_mri_ct_official.py) and
# the real-data trainings (tim_mri_ct_harvard_cpu.py).
_base_ = ['./tim_ivif.py']

model = dict(
    fusion_net=dict(
        stage1=dict(input_order=(0, 1)),
        stage2=dict(
            merge='concat',
            input_order=(0, 1),
            # fusion_ct (official g1, cells3)
            first_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_5_1', 'SPAattention_3']),
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_5_1', 'SPAattention_3']),
            ],
            # fusion_mri (official g0, cells2)
            second_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_5_1', 'Residualblocks_5_1']),
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_5_1', 'Residualblocks_5_1']),
            ])))
