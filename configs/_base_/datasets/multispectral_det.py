# MultiSpectral object detection (Takumi et al., ACM MM Thematic Workshops
# 2017) as TIM uses it (Sec. 4.3.1, Table 4): the far-infrared and RGB
# frames, re-partitioned by TIM into 2550 training and 250 test pairs, five
# classes (color cone, car stop, car, person, bike). Layout (docs/user_guides/datasets.md,
# boxes converted to COCO):
#   data/MultiSpectral/ir/<stem>.png                FIR frame
#   data/MultiSpectral/vi/<stem>.png                RGB frame (same stem)
#   data/MultiSpectral/annotations/train.json       2550 pairs (COCO boxes)
#   data/MultiSpectral/annotations/test.json        250 pairs
#   data/MultiSpectral/annotations/search_weights.json, search_arch.json
#                                  the two halves of train.json (the search
#                                  configs; docs/user_guides/search.md)
# TIM's 2550/250 partition itself is not published; write the json files
# from your copy of the release (category names as in `classes` below).
# No data? `python tools/misc/make_toy_data.py data/toy_multispectral
# --layout multispectral` writes a procedural set in this layout (no car_stop
# instances), used by the *_multispectral_toy.py configs.
# Loaders and metrics: ./paired_det.py (here COCO json boxes and per-class
# AP).
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

# per class (classwise=True), as Table 4 reports per-class AP; the fusion
# metrics as the base
val_evaluator = [
    dict(type='mmdet.CocoMetric', metric='bbox', classwise=True),
    _base_.val_evaluator[1],
]
test_evaluator = val_evaluator
