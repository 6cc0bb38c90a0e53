# M3FD infrared-visible detection (Liu et al., CVPR 2022), VOC boxes:
#   data/M3FD/ir/<stem>.png            infrared (the release's `Ir/`)
#   data/M3FD/vi/<stem>.png            visible, colour (the release's `Vis/`)
#   data/M3FD/Annotations/<stem>.xml   VOC boxes (the release's `Annotation/`)
#   data/M3FD/splits/{train,val}.txt   stems, one per line (M3FD ships no
#                                      split; docs/task_guided.md shows how
#                                      to write one)
# The release's own folder names also work: set data_prefix=dict(ir='Ir',
# vi='Vis') and ann_dir='Annotation' (see docs/datasets.md).
# No data? `python tools/misc/make_toy_data.py data/toy` and run the
# `_toy` sibling of the config.
dataset_type = 'PairedDetDataset'
data_root = 'data/M3FD/'
modalities = dict(ir='ir', vi='vi')  # stacked (ir, vi) for N_F
classes = ('People', 'Car', 'Bus', 'Motorcycle', 'Lamp', 'Truck')
img_scale = (1024, 768)  # (w, h), the M3FD frame size

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
        ann_file='splits/val.txt',
        metainfo=dict(classes=classes),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# COCO-style bbox mAP from the boxes the packer puts into the metainfo
# (`instances`; VOC `difficult` boxes count as crowd / ignore), plus the
# fusion metrics of the fused images.
val_evaluator = [
    dict(type='mmdet.CocoMetric', metric='bbox'),
    dict(
        type='FusionMetric',
        preset='cddfuse',
        metrics=['EN', 'SD', 'SF', 'AG', 'MI', 'SSIM', 'Qabf', 'VIF']),
]
test_evaluator = val_evaluator
