# LOL training data of the HBL stages (the official crops and augmentation)
# Guide: docs/methods/hbl.md
_base_ = ['../../ruas/_base_/lowlight_lol.py']
lol_root = 'data/LOL/'
crop = (128, 128)
hbl_train_pipeline = [
    dict(type='LoadEnhanceImages'),
    dict(type='PairedRandomCrop', crop_size=crop),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PairedRandomRot90', prob=0.75),
    dict(type='PackEnhanceInputs'),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='LowLightDataset',
        data_root=lol_root + 'our485/',
        data_prefix=dict(low='low', gt='high'),
        pipeline=hbl_train_pipeline))
hbl_arch_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='LowLightDataset',
        data_root=lol_root + 'our485/',
        ann_file='splits/search_arch.txt',
        data_prefix=dict(low='low', gt='high'),
        pipeline=hbl_train_pipeline))
# the search stages split our485 in two (eval15 is never read):
#   cd data/LOL/our485 && mkdir -p splits && ls low | sed 's/\.[^.]*$//' \
#     | awk 'NR % 2 {print > "splits/search_weights.txt"; next}
#            {print > "splits/search_arch.txt"}'
hbl_search_weights_dataset = dict(ann_file='splits/search_weights.txt')
