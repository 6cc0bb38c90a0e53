# LLVIP night-time infrared-visible pedestrian detection (Jia et al., ICCV
# Workshops 2021), VOC boxes, one class:
#   data/LLVIP/ir/<stem>.jpg            infrared (the release's `infrared/`)
#   data/LLVIP/vi/<stem>.jpg            visible, colour, low-light
#   data/LLVIP/Annotations/<stem>.xml   VOC boxes (person)
#   data/LLVIP/splits/{train,test}.txt  stems (the release's train / test)
# The release's folders work with data_prefix=dict(ir='infrared/train',
# vi='visible/train') (see docs/datasets.md). ../shared/data/detection/llvip6
# holds 6 real pairs in this layout (no split files: set ann_file='').
# The VIS image is loaded as RGB (keep_rgb in the model's preprocessor) so
# that a chain can enhance it before the fusion.
dataset_type = 'PairedDetDataset'
data_root = 'data/LLVIP/'
modalities = dict(ir='ir', vi='vi')
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
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_format='voc',
        data_root=data_root,
        data_prefix=modalities,
        ann_dir='Annotations',
        ann_file='splits/train.txt',
        metainfo=dict(classes=classes),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_format='voc',
        data_root=data_root,
        data_prefix=modalities,
        ann_dir='Annotations',
        ann_file='splits/test.txt',
        metainfo=dict(classes=classes),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='mmdet.CocoMetric', metric='bbox'),
    dict(
        type='FusionMetric',
        preset='cddfuse',
        metrics=['EN', 'SD', 'SF', 'AG', 'MI', 'SSIM', 'Qabf', 'VIF']),
]
test_evaluator = val_evaluator
