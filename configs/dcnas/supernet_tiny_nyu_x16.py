# DCNAS-Tiny x16 on NYU v2: supernet, uniform paths (docs/methods/dcnas.md)
_base_ = ['./_base_/supernet_nyu.py']
num_features = 8
model = dict(network=dict(num_features=8))

scale = 16
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
work_dir = 'work_dirs/dcnas_tiny_nyu_x16'
