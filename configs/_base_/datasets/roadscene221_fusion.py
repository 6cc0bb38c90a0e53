# RoadScene221 train / RoadScene test, leak-checked splits
# Guide: docs/user_guides/datasets.md ("Real fusion splits")
_base_ = ['./ivif_fusion.py']

fusion_root = '../shared/data/fusion/'
train_root = fusion_root + 'RoadScene221/'
test_root = fusion_root + 'RoadScene/'
split_dir = '{{ fileDirname }}/splits/roadscene221/'
modalities = dict(ir='ir', vi='vi')

train_dataloader = dict(
    dataset=dict(
        data_root=train_root,
        data_prefix=dict(_delete_=True, **modalities),
        ann_file=split_dir + 'train.txt',
        # bad pairs stop the run when the loader is built
        check_sizes=True))
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
