# Harvard MRI-PET, real data, leak-checked splits in splits/harvard_pet/
# Guide: docs/user_guides/datasets.md ("Real fusion splits")
_base_ = ['./medical_fusion.py']

fusion_root = '../shared/data/fusion/'
train_root = fusion_root + 'Harvard/PET-MRI/'
test_root = fusion_root + 'MRI_PET/'
split_dir = '{{ fileDirname }}/splits/harvard_pet/'
modalities = dict(mri='MRI', pet='PET')

train_dataloader = dict(
    dataset=dict(
        data_root=train_root,
        data_prefix=dict(_delete_=True, **modalities),
        ann_file=split_dir + 'train.txt'))
val_dataloader = dict(
    dataset=dict(
        data_root=test_root,
        data_prefix=dict(_delete_=True, **modalities),
        ann_file=split_dir + 'test.txt'))
test_dataloader = val_dataloader

search_weights_dataset = dict(
    type='PairedImageDataset',
    data_root=train_root,
    data_prefix=modalities,
    ann_file=split_dir + 'search_weights.txt',
    pipeline={{ _base_.train_pipeline }})
search_arch_dataset = dict(
    type='PairedImageDataset',
    data_root=train_root,
    data_prefix=modalities,
    ann_file=split_dir + 'search_arch.txt',
    pipeline={{ _base_.train_pipeline }})
