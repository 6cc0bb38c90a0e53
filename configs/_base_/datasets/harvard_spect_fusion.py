# Harvard MRI-SPECT, real data, leak-checked splits in splits/harvard_spect/
# Guide: docs/user_guides/datasets.md ("Real fusion splits")
_base_ = ['./medical_fusion.py']

fusion_root = '../shared/data/fusion/'
train_root = fusion_root + 'Harvard/SPECT-MRI/'
test_root = fusion_root + 'MRI_SPECT/'
split_dir = '{{ fileDirname }}/splits/harvard_spect/'
modalities = dict(mri='MRI', spect='SPECT')

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
