# The embedded procedural IR/VIS toy data with semantic masks, for fusion +
# segmentation (make it with
# `python tools/misc/make_toy_data.py data/toy --num 300 --seed 0`):
#   data/toy/{ir,vi}/NNNNN.png, data/toy/masks/NNNNN.png (0 background,
#   1 person, 2 car, 3 bicycle, 4 cone, 255 ignore), data/toy/splits/
# Training resizes the 256x256 pairs and masks to 128x128; testing resizes
# the images only and loads the masks afterwards, so IoUMetric compares the
# prediction (resized back to 256 by mmseg) with the original mask.
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

# A list: MMEngine reads a dict with a `metrics` key as an Evaluator config.
# One run reports mIoU (mIoU, aAcc, mAcc) and the fusion metrics (fusion/EN,
# ...).
val_evaluator = [
    dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']),
    # the default metric list (DEFAULT_FUSION_METRICS), as fuse.py --metrics
    # and eval_fusion.py report it
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
