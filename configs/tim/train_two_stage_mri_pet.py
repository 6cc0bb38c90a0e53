# TIM two-stage model (N_F + searched N_T) trained jointly on MRI-PET
# (Sec. 4.2, Table 2): train_two_stage_mri_ct.py with N_F from
# fusion_mri_pet.py, N_T derived by search_enhance_mri_pet.py and the
# MRI-PET pairs (data/MRI_PET/{MRI,PET}, sources stacked (mri, pet);
# splits/train.txt for training, splits/val.txt for evaluation).
#   python tools/train.py configs/tim/fusion_mri_pet.py
#   python tools/train.py configs/tim/search_enhance_mri_pet.py
#   python tools/train.py configs/tim/train_two_stage_mri_pet.py
_base_ = './train_two_stage_mri_ct.py'

model = dict(
    fusion_net=dict(
        stage1_init='work_dirs/fusion_mri_pet/iter_10000.pth',
        stage2=dict(
            genotype='work_dirs/search_enhance_mri_pet/genotypes/'
            'latest.yaml')))
data_root = 'data/MRI_PET/'
modalities = dict(mri='MRI', pet='PET')
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
test_dataloader = val_dataloader
