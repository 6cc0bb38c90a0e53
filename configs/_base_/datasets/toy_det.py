# Toy IR/VIS pairs with COCO boxes (docs/user_guides/toy_data.md)
dataset_type = 'PairedDetDataset'
data_root = 'data/toy/'
modalities = dict(ir='ir', vi='vi')  # stacked (ir, vi) for N_F
classes = ('person', 'car', 'bicycle', 'cone')
img_scale = (128, 128)  # (w, h)

train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=img_scale),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedResize', scale=img_scale),
    dict(type='PackFusionDetInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file='annotations/instances_train.json',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file='annotations/instances_val.json',
        metainfo=dict(classes=classes),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(
        type='mmdet.CocoMetric',
        ann_file=data_root + 'annotations/instances_val.json',
        metric='bbox'),
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
