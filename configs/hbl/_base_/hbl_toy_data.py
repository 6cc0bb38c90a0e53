# Toy data of the HBL toy pipeline: darkened toy scenes in the LOL layout
#   python tools/misc/make_toy_lowlight.py data/toy_lowlight
# (for haze / underwater toys: tools/misc/make_toy_restoration.py, then set
# the datasets' type to HazeDataset / UnderwaterDataset and data_root).
# 32x32 crops, batch 2; the upper level reads val/, which is also the test.
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
        data_root=toy_root + 'val/',
        data_prefix=dict(low='low', gt='high'),
        pipeline=hbl_train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=toy_root + 'val/'))
test_dataloader = val_dataloader
