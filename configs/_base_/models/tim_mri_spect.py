# TIM, official MRI-SPECT model (MmIF/test_fusion_Medical_spect.py;
# 1,225,560 params): stage 1 as for IVIF (fusion_M), stage 2
# Network_Fusion9_2 ('concat' merge, tanh output) with genotypes
# [fusion_mri_spect, fusion_spect]. The SPECT image is fused through its
# luminance (Y of YCbCr).
# The script calls model_1(mri, spect_Y) and model_2(mri, spect_Y, f): no
# swap for sources stacked as (mri, spect). The official names are crossed:
# the MRI branch (first, official cells3) uses fusion_spect, the SPECT
# branch (second, cells2) uses fusion_mri_spect.
# Official inference quirks not reproduced: the script reads the MRI with
# plt.imread and divides by 255 again (MRI in [0, 1/255]) and leaves both
# models in train mode.
# One definition for the official config (fusion_mri_spect_official.py) and
# the real-data trainings (tim_mri_spect_harvard_cpu.py).
_base_ = ['./tim_ivif.py']

model = dict(
    fusion_net=dict(
        stage1=dict(input_order=(0, 1)),
        stage2=dict(
            merge='concat',
            input_order=(0, 1),
            # fusion_spect (official g1, cells3)
            first_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_3_1', 'SPAattention_3']),
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_3_1', 'SPAattention_3']),
            ],
            # fusion_mri_spect (official g0, cells2)
            second_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_5_1', 'Denseblocks_3_1']),
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_5_1', 'Denseblocks_3_1']),
            ])))
