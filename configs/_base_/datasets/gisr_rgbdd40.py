# The 40 real RGB-D-D pairs split by capture day for a DCNAS search;
# test on Middlebury (docs/methods/dcnas_real_search.md)
data_root = '../shared/data/gisr/RGBDD_subset40'
split_dir = '{{ fileDirname }}/splits/rgbdd40/'
scale = 4
train_pipeline = [
    dict(type='LoadGISRSample'),
    dict(type='GISRModCrop', multiple=32),
    dict(type='GISRRandomCrop', patch_size=64),
    dict(type='GISRAugment'),
    dict(type='GISRDegrade', scale=scale, norm='lr_minmax'),
    dict(type='PackGISRInputs')
]
test_pipeline = [
    dict(type='LoadGISRSample'),
    dict(type='GISRModCrop', multiple=32),
    dict(type='GISRDegrade', scale=scale, norm='lr_minmax'),
    dict(type='PackGISRInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='GISRDataset',
        data_root=data_root,
        split_file=split_dir + 'search_train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='GISRDataset',
        data_root=data_root,
        split_file=split_dir + 'search_val.txt',
        pipeline=test_pipeline,
        test_mode=True))
search_val_dataloader = val_dataloader
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        type='GISRDataset',
        data_root='../shared/data/gisr/Middlebury',
        pipeline=test_pipeline,
        test_mode=True))
# RGB-D-D depth is stored in mm; Middlebury in 8-bit levels
val_evaluator = dict(type='GISRMetric', preset='rgbdd', with_bicubic=True)
test_evaluator = dict(
    type='GISRMetric', preset='middlebury', with_bicubic=True)
