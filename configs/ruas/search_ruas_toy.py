# Toy sibling of search_ruas_lol.py (32x32 crops, 2 epochs)
# Guide: docs/methods/ruas.md
_base_ = ['./search_ruas_lol.py']

data_root = 'data/toy_lowlight/'
crop = (32, 32)
search_pipeline = [
    dict(type='LoadEnhanceImages'),
    dict(type='PairedRandomCrop', crop_size=crop),
    dict(type='PackEnhanceInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root + 'train/',
        data_prefix=dict(low='low'),
        ann_file='splits/search_weights.txt',
        img_suffixes=['.png'],
        pipeline=search_pipeline))
train_cfg = dict(
    max_epochs=2,
    arch_dataloader=dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        dataset=dict(
            data_root=data_root + 'train/',
            data_prefix=dict(low='low'),
            ann_file='splits/search_arch.txt',
            img_suffixes=['.png'],
            pipeline=search_pipeline)))
model = dict(task_update_interval=1)
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-3)))
default_hooks = dict(
    logger=dict(interval=2),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=1))
