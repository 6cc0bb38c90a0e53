# train_two_stage_mri_ct.py on MRI-PET (docs/methods/tim.md)
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
