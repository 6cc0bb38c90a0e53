# What the real paired IR/VIS detection sets share (m3fd_det.py,
# llvip_det.py, multispectral_det.py): PairedDetDataset of stacked (ir, vi)
# pairs; training batch 4 on 4 workers, endless shuffled, images without
# boxes filtered out; validation / test batch 1 on 2 workers, in order; COCO
# bbox mAP from the boxes the packer puts into the metainfo (`instances`)
# plus the fusion metrics of the fused images. A child names its data:
# `data_root`, `classes`, `img_scale`, `train_pipeline` / `test_pipeline`
# and, in both loaders, data_root, ann_file (a COCO json; VOC / YOLO boxes
# are converted by tools/dataset_converters/paired_to_coco.py), metainfo
# and pipeline, then `test_dataloader = val_dataloader` again so that the
# test loader gets them too.
dataset_type = 'PairedDetDataset'
modalities = dict(ir='ir', vi='vi')  # stacked (ir, vi) for N_F

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_prefix=modalities,
        filter_cfg=dict(filter_empty_gt=True)))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_prefix=modalities, test_mode=True))
test_dataloader = val_dataloader

# (VOC `difficult` boxes count as crowd / ignore)
val_evaluator = [
    dict(type='mmdet.CocoMetric', metric='bbox'),
    # the default metric list (DEFAULT_FUSION_METRICS), as fuse.py --metrics
    # and eval_fusion.py report it
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
