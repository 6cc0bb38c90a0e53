# Toy RGB-D pairs: python tools/misc/make_toy_rgbd.py data/toy_rgbd
data_root = 'data/toy_rgbd'
scale = 4
train_pipeline = [
    dict(type='LoadGISRSample'),
    dict(type='GISRModCrop', multiple=32),
    dict(type='GISRRandomCrop', patch_size=32),
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
        data_root=data_root + '/train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='GISRDataset',
        data_root=data_root + '/val',
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='GISRDataset',
        data_root=data_root + '/test',
        pipeline=test_pipeline,
        test_mode=True))
search_val_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'],
                 data_root=data_root + '/search_val'))
# stored depth is mm: the RGB-D-D preset reports cm
val_evaluator = dict(type='GISRMetric', preset='rgbdd', with_bicubic=True)
test_evaluator = val_evaluator
