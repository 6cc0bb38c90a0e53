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
# Data: Harvard MRI-PET pairs under data/MRI_PET/{MRI,PET} (256x256); no
# official split, every pair is used.
_base_ = [
    '../_base_/models/tim_mri_pet.py',
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/MRI_PET/'
modalities = dict(mri='MRI', pet='PET')
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(_delete_=True, **modalities),
        ann_file=''))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(_delete_=True, **modalities),
        ann_file=''))
test_dataloader = val_dataloader
