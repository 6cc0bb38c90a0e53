# MFNet RGB-thermal segmentation (4-channel PNGs)
# Layout: docs/user_guides/det_seg_datasets.md
dataset_type = 'PairedSegDataset'
data_root = 'data/MFNet/'
modalities = dict(ir='images', vi='images')  # stacked (ir, vi) for N_F
img_channels = dict(vi=(0, 1, 2), ir=(3, ))  # = MFNET_CHANNELS
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
        data_root=data_root,
        data_prefix=modalities,
        img_channels=img_channels,
        seg_map_dir='labels',
        ann_file='train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        img_channels=img_channels,
        seg_map_dir='labels',
        ann_file='val.txt',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'],
                                 ann_file='test.txt'))

val_evaluator = [
    dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']),
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
