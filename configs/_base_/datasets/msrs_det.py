# MSRS_det: 307 real MSRS pairs, frame-block splits, `fusion` labels
# Guide: docs/user_guides/datasets.md ("MSRS_det")
_base_ = ['./paired_det.py']

data_root = '../shared/data/detection/MSRS_det/'
ann_root = '{{ fileDirname }}/../../../data/MSRS_det/annotations/'
classes = ('person', 'bicycle', 'car')
img_scale = (640, 480)  # (w, h), the MSRS frame size

train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PackFusionDetInputs'),
]

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=ann_root + 'fusion_train.json',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=ann_root + 'fusion_val.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=ann_root + 'fusion_test.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
