# MSRS infrared-visible segmentation (9 classes)
# Layout: docs/user_guides/det_seg_datasets.md
dataset_type = 'PairedSegDataset'
data_root = 'data/MSRS/'
modalities = dict(ir='Infrared', vi='Visible')  # stacked (ir, vi) for N_F
crop_size = (480, 480)  # (h, w)

train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(
        type='LoadPairedAnnotations',
        with_bbox=False,
        with_label=False,
        with_seg=True),
    dict(type='PairedRandomCrop', crop_size=crop_size),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionSegInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages'),
    dict(
        type='LoadPairedAnnotations',
        with_bbox=False,
        with_label=False,
        with_seg=True),
    dict(type='PackFusionSegInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root + 'train/',
        data_prefix=modalities,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root + 'test/',
        data_prefix=modalities,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']),
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
