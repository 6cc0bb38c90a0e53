# TIM stage 2: N_T search for MRI-CT fusion (Sec. 4.2, Table 2), on top of
# the searched N_F trained by fusion_mri_ct.py. As search_enhance_ivif.py,
# with the medical N_T (branches merged by concatenation, source order kept:
# first branch = MRI = detail enhancement, second = CT = target extraction)
# and the medical branch losses (l_int to CT, l_ssim to MRI).
# Data: data/MRI_CT/{MRI,CT}/<stem>.png; the search uses the two halves
# of the training split (splits/search_weights.txt, splits/search_arch.txt,
# both within splits/train.txt); train_two_stage_mri_ct.py trains on
# splits/train.txt and evaluates on splits/val.txt, which alpha never sees.
#   python tools/train.py configs/tim/fusion_mri_ct.py
#   python tools/train.py configs/tim/search_enhance_mri_ct.py
#   python tools/train.py configs/tim/train_two_stage_mri_ct.py
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
