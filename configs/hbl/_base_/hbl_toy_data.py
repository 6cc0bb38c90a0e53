# Toy LOL-layout data: python tools/misc/make_toy_lowlight.py data/toy_lowlight
# Guide: docs/methods/hbl.md
_base_ = ['../../ruas/_base_/lowlight_lol.py']
toy_root = 'data/toy_lowlight/'
crop = (32, 32)
hbl_train_pipeline = [
    dict(type='LoadEnhanceImages'),
    dict(type='PairedRandomCrop', crop_size=crop),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PairedRandomRot90', prob=0.75),
    dict(type='PackEnhanceInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='LowLightDataset',
        data_root=toy_root + 'train/',
        data_prefix=dict(low='low', gt='high'),
        pipeline=hbl_train_pipeline))
hbl_arch_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='LowLightDataset',
        data_root=toy_root + 'train/',
        ann_file='splits/search_arch.txt',
        data_prefix=dict(low='low', gt='high'),
        pipeline=hbl_train_pipeline))
hbl_search_weights_dataset = dict(ann_file='splits/search_weights.txt')
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=toy_root + 'val/'))
test_dataloader = val_dataloader
