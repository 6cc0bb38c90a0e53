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
        data_root=lol_root + 'our485/',
        ann_file='splits/search_arch.txt',
        data_prefix=dict(low='low', gt='high'),
        pipeline=hbl_train_pipeline))
# The search stages split our485 in two: our485/splits/search_weights.txt
# for the weights, search_arch.txt for the upper level (hbl_arch_dataloader);
# eval15 is the evaluation split and is never read by a search (the
# official code reads eval15 at the upper level). Make the files with
#   cd data/LOL/our485 && mkdir -p splits && ls low | sed 's/\.[^.]*$//' \
#     | awk 'NR % 2 {print > "splits/search_weights.txt"; next}
#            {print > "splits/search_arch.txt"}'
hbl_search_weights_dataset = dict(ann_file='splits/search_weights.txt')
