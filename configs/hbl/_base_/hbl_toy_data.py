# Toy data of the HBL toy pipeline: darkened toy scenes in the LOL layout
#   python tools/misc/make_toy_lowlight.py data/toy_lowlight
# (for haze / underwater toys: tools/misc/make_toy_restoration.py, then set
# the datasets' type to HazeDataset / UnderwaterDataset and data_root).
# 32x32 crops, batch 2. The search stages split train/ in two (the toy
# generator's train/splits/search_weights.txt for the weights and
# search_arch.txt for the upper level, hbl_arch_dataloader); val/ is the
# evaluation split, never read by a search.
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
# the weights' half of train/ for the search stages (stage 3 trains on all)
hbl_search_weights_dataset = dict(ann_file='splits/search_weights.txt')
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=toy_root + 'val/'))
test_dataloader = val_dataloader
