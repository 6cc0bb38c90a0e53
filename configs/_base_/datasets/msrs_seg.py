# MSRS infrared-visible segmentation (Tang et al., 2022):
#   data/MSRS/{train,test}/Infrared/<stem>.png
#   data/MSRS/{train,test}/Visible/<stem>.png         (colour)
#   data/MSRS/{train,test}/Segmentation_labels/<stem>.png   (0-8)
# 9 classes (unlabelled, car, person, bike, curve, car_stop, guardrail,
# color_cone, bump), the PairedSegDataset default. Validation / test on
# `test/` at full resolution (640x480).
# No data? `python tools/misc/make_toy_data.py data/toy` and run the
# `_toy` sibling of the config.
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
    # the default metric list (DEFAULT_FUSION_METRICS), as fuse.py --metrics
    # and eval_fusion.py report it
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
