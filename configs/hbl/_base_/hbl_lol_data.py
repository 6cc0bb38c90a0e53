# LOL training data of the HBL stages (official: batch 1, 128x128 random
# crops at the same place in L and H, KAIR augment_img's 8 rot90 x flip
# modes; RGB / 255). our485 trains the weights; the upper level reads a
# held-out split (official 'val' list; here LOL eval15 - point
# arch_dataloader at your own split to keep eval15 for testing).
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
        data_root=lol_root + 'eval15/',
        data_prefix=dict(low='low', gt='high'),
        pipeline=hbl_train_pipeline))
