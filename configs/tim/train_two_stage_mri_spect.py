# TIM two-stage model (N_F + searched N_T) trained jointly on MRI-SPECT
# (Sec. 4.2, Table 2): train_two_stage_mri_ct.py with N_F from
# fusion_mri_spect.py, N_T derived by search_enhance_mri_spect.py and the
# MRI-SPECT pairs (data/MRI_SPECT/{MRI,SPECT}, sources stacked (mri, spect);
# splits/train.txt for training, splits/val.txt for evaluation).
#   python tools/train.py configs/tim/fusion_mri_spect.py
#   python tools/train.py configs/tim/search_enhance_mri_spect.py
#   python tools/train.py configs/tim/train_two_stage_mri_spect.py
_base_ = './train_two_stage_mri_ct.py'

model = dict(
    fusion_net=dict(
        stage1_init='work_dirs/fusion_mri_spect/iter_10000.pth',
        stage2=dict(
            genotype='work_dirs/search_enhance_mri_spect/genotypes/'
            'latest.yaml')))
data_root = 'data/MRI_SPECT/'
modalities = dict(mri='MRI', spect='SPECT')
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix=dict(_delete_=True, **modalities)))
test_dataloader = val_dataloader
