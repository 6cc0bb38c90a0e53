# TIM, official MRI-PET model (MmIF/test_fusion_Medical_pet.py; 1,239,732
# params): stage 1 as for IVIF (fusion_M), stage 2 Network_Fusion9_2
# ('concat' merge, tanh output) with genotypes [fusion_mri_pet, fusion_pet].
# The PET image is fused through its luminance (Y of YCbCr; the data
# preprocessor keeps the chroma and re-attaches it to the prediction).
# The script calls model_1(pet_Y, mri) and model_2(pet_Y, mri, f): with
# sources stacked as (mri, pet) both stages swap them (input_order=(1, 0)),
# so the first branch (official cells3) sees PET-Y with fusion_pet and the
# second (cells2) sees MRI with fusion_mri_pet.
# Paper vs code: the paper lists "3-SC, 3-RB, 3-RB, 5-RB"; the code's
# fusion_mri_pet is (SepConv_3_1, Residualblocks_5_1). We follow the code.
# One definition for the official config (fusion_mri_pet_official.py) and
# the real-data trainings (tim_mri_pet_harvard_cpu.py).
_base_ = ['./tim_ivif.py']

model = dict(
    fusion_net=dict(
        stage1=dict(input_order=(1, 0)),
        stage2=dict(
            merge='concat',
            input_order=(1, 0),
            # fusion_pet (official g1, cells3)
            first_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_3_1', 'Residualblocks_5_1']),
                dict(
                    type='SuccessiveCell',
                    ops=['Residualblocks_3_1', 'Residualblocks_5_1']),
            ],
            # fusion_mri_pet (official g0, cells2)
            second_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['SepConv_3_1', 'Residualblocks_5_1']),
                dict(
                    type='SuccessiveCell',
                    ops=['SepConv_3_1', 'Residualblocks_5_1']),
            ])))
