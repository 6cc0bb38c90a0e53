# Loaders and metrics shared by the real paired IR/VIS detection sets;
# a child sets the data, then `test_dataloader = val_dataloader` again
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

val_evaluator = [
    dict(type='mmdet.CocoMetric', metric='bbox'),
    dict(type='FusionMetric', preset='cddfuse'),
]
test_evaluator = val_evaluator
