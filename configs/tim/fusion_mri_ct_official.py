# TIM, official MRI-CT model (MmIF/test_fusion_Medical_ct.py; 1,229,976
# params): stage 1 as for IVIF (fusion_M), stage 2 Network_Fusion9_2
# ('concat' merge, tanh output) with genotypes [fusion_mri, fusion_ct].
# The script calls model_1(mri, ct) and model_2(mri, ct, f): no swap for
# sources stacked as (mri, ct). Note the official names are crossed: the
# MRI branch (first, official cells3) uses fusion_ct, the CT branch
# (second, cells2) uses fusion_mri.
# Data: Harvard MRI-CT pairs under data/MRI_CT/{MRI,CT} (256x256); there is
# no official split, so every pair is used (add split files to hold some
# out).
_base_ = [
    '../_base_/models/tim_mri_ct.py',
    '../_base_/datasets/toy_fusion.py',
    '../_base_/schedules/schedule_300i.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/MRI_CT/'
modalities = dict(mri='MRI', ct='CT')
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
