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
# Data: Harvard MRI-SPECT pairs under data/MRI_SPECT/{MRI,SPECT} (256x256);
# no official split, every pair is used.
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
