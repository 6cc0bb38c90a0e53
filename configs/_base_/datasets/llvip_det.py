# LLVIP infrared-visible pedestrian detection (COCO jsons from VOC)
# Layout and conversion: docs/user_guides/det_seg_datasets.md
_base_ = ['./paired_det.py']

data_root = 'data/LLVIP/'
classes = ('person', )
img_scale = (640, 512)  # (w, h): half the 1280x1024 frames
color_type = dict(ir='gray', vi='color')

train_pipeline = [
    dict(type='LoadPairedImages', color_type=color_type),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages', color_type=color_type),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PackFusionDetInputs'),
]

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/train.json',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/test.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
