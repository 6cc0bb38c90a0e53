# TIM fusion network N_F trained on Harvard MRI-PET pairs. PET is colour:
# it is fused through its luminance and the prediction gets its chroma back.
# Data: data/MRI_PET/{MRI,PET}/<stem>.png, sources stacked (mri, pet).
# Network, losses and schedule: configs/tim/fusion_mri_ct.py.
#   python tools/train.py configs/tim/fusion_mri_pet.py
_base_ = './fusion_mri_ct.py'

data_root = 'data/MRI_PET/'
modalities = dict(mri='MRI', pet='PET')
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
test_dataloader = val_dataloader
