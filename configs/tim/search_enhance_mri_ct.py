# TIM stage 2: N_T search for MRI-CT on the N_F of fusion_mri_ct.py
# (the medical N_T; splits/search_{weights,arch}.txt within train.txt)
# Guide: docs/methods/tim.md
_base_ = './search_enhance_ivif.py'

model = dict(
    architecture=dict(
        fusion_net=dict(
            stage1_init='work_dirs/fusion_mri_ct/iter_10000.pth',
            stage2=_base_.tim_nt_space_medical),
        losses=_base_.medical_branch_losses + [_base_.tim_saliency_loss]))

data_root = 'data/MRI_CT/'
modalities = dict(mri='MRI', ct='CT')
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
train_cfg = dict(
    arch_dataloader=dict(
        dataset=dict(
            data_root=data_root,
            data_prefix=dict(_delete_=True, **modalities))))
