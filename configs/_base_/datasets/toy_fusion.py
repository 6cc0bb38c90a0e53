# The embedded procedural IR/VIS toy data (make it with
# `python tools/misc/make_toy_data.py data/toy --num 300 --seed 0`).
dataset_type = 'PairedImageDataset'
data_root = 'data/toy/'
modalities = dict(ir='ir', vi='vi')  # modality name -> sub-folder (A, B)

train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(128, 128)),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PackFusionInputs'),
]
test_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PackFusionInputs'),
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
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file='splits/val.txt',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# A list: MMEngine reads a dict with a `metrics` key as an Evaluator config.
val_evaluator = [
    # the default metric list (DEFAULT_FUSION_METRICS), as fuse.py --metrics
    # and eval_fusion.py report it
    dict(type='FusionMetric', preset='cddfuse')
]
test_evaluator = val_evaluator
