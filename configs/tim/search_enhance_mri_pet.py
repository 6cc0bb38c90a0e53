# TIM stage 2: N_T search for MRI-PET on the N_F of fusion_mri_pet.py
# (the medical N_T; splits/search_{weights,arch}.txt within train.txt)
# Guide: docs/methods/tim.md
_base_ = './search_enhance_mri_ct.py'

model = dict(
    architecture=dict(
        fusion_net=dict(
            stage1_init='work_dirs/fusion_mri_pet/iter_10000.pth')))

data_root = 'data/MRI_PET/'
modalities = dict(mri='MRI', pet='PET')
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
train_cfg = dict(
    arch_dataloader=dict(
        dataset=dict(
            data_root=data_root,
            data_prefix=dict(_delete_=True, **modalities))))
