# NYU v2 guided depth SR, 1000 / 449 split, the official DCNAS protocol
# (data: tools/dataset_converters/nyu_mat_to_gisr.py; docs/methods/dcnas.md)
data_root = 'data/nyu_v2'
scale = 4
train_pipeline = [
    dict(type='LoadGISRSample'),
    dict(type='GISRModCrop', multiple=32),
    dict(type='GISRRandomCrop', patch_size=224),
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
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='GISRDataset',
        data_root=data_root,
        split_file='train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='GISRDataset',
        data_root=data_root,
        split_file='test.txt',
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
# search scores on held-out train ids, never the test ids
search_val_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split_file='search_val.txt'))
val_evaluator = dict(type='GISRMetric', preset='nyu', with_bicubic=True)
test_evaluator = val_evaluator
