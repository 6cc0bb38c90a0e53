# Toy IR/VIS pairs with masks (docs/user_guides/toy_data.md)
dataset_type = 'PairedSegDataset'
data_root = 'data/toy/'
modalities = dict(ir='ir', vi='vi')  # stacked (ir, vi) for N_F
classes = ('background', 'person', 'car', 'bicycle', 'cone')
img_scale = (128, 128)  # (w, h)

train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(
        type='LoadPairedAnnotations',
        with_bbox=False,
        with_label=False,
        with_seg=True),
    dict(type='PairedResize', scale=img_scale),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionSegInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedResize', scale=img_scale),
    # masks loaded after Resize: IoUMetric compares at the mask size
    dict(
        type='LoadPairedAnnotations',
        with_bbox=False,
        with_label=False,
        with_seg=True),
    dict(type='PackFusionSegInputs'),
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
        seg_map_dir='masks',
        ann_file='splits/train.txt',
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
        seg_map_dir='masks',
        ann_file='splits/val.txt',
        metainfo=dict(classes=classes),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']),
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
