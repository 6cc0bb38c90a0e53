# TIM stage 2: N_T search for MRI-PET fusion (Sec. 4.2, Table 2), on top of
# the searched N_F trained by fusion_mri_pet.py. As search_enhance_ivif.py,
# with the medical N_T (branches merged by concatenation, source order kept:
# first branch = MRI = detail enhancement, second = PET = target extraction)
# and the medical branch losses (l_int to PET, l_ssim to MRI).
# Data: data/MRI_PET/{MRI,PET}/<stem>.png; the search uses the two halves
# of the training split (splits/search_weights.txt, splits/search_arch.txt,
# both within splits/train.txt); train_two_stage_mri_pet.py trains on
# splits/train.txt and evaluates on splits/val.txt, which alpha never sees.
#   python tools/train.py configs/tim/fusion_mri_pet.py
#   python tools/train.py configs/tim/search_enhance_mri_pet.py
#   python tools/train.py configs/tim/train_two_stage_mri_pet.py
# Network and losses: search_enhance_mri_ct.py.
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
