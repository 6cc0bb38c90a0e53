# MultiSpectral detection as TIM uses it (Sec. 4.3.1, 2550 / 250 pairs)
# Layout: docs/user_guides/det_seg_datasets.md
_base_ = ['./paired_det.py']

data_root = 'data/MultiSpectral/'
classes = ('color_cone', 'car_stop', 'car', 'person', 'bike')
img_scale = (256, 256)  # (w, h): the paper's "low resolution (256x256)"

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

val_evaluator = [
    dict(type='mmdet.CocoMetric', metric='bbox', classwise=True),
    _base_.val_evaluator[1],
]
test_evaluator = val_evaluator
