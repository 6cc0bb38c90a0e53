# TIM N_F trained on Harvard MRI-SPECT pairs (SPECT through its luminance)
# Guide: docs/methods/tim.md
_base_ = './fusion_mri_ct.py'

data_root = 'data/MRI_SPECT/'
modalities = dict(mri='MRI', spect='SPECT')
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
test_dataloader = val_dataloader
