# RoadScene, real data: train on the 171 RoadScene221 pairs that are not
# (within the near-duplicate threshold of) a test image, test on the 50
# RoadScene test pairs; TNO is checked for leaks too. The split lists are
# splits/roadscene221/*.txt next to this file, written by
# `python tools/dataset_converters/make_fusion_splits.py` (docs/user_guides/datasets.md,
# "Real fusion splits"). Search configs use `search_weights_dataset` /
# `search_arch_dataset` (the two halves of train).
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
        # an unpaired stem, an unreadable file or a pair of different sizes
        # stops the run when the loader is built, before the first step
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
