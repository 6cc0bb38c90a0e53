# TIM fusion network N_F trained on Harvard MRI-SPECT pairs. SPECT is
# colour: it is fused through its luminance and the prediction gets its
# chroma back.
# Data: data/MRI_SPECT/{MRI,SPECT}/<stem>.png, sources stacked (mri, spect).
# Network, losses and schedule: configs/tim/fusion_mri_ct.py.
#   python tools/train.py configs/tim/fusion_mri_spect.py
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
