# TIM, the official MRI-SPECT model, on data/MRI_SPECT (every pair)
# Guide: docs/methods/tim_networks.md
_base_ = [
    '../_base_/models/tim_mri_spect.py',
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/MRI_SPECT/'
modalities = dict(mri='MRI', spect='SPECT')
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
