# Infrared-visible image fusion on a real {ir,vi} layout:
#   data/<name>/ir/<stem>.<ext>   infrared (grey, or grey stored as colour)
#   data/<name>/vi/<stem>.<ext>   visible (grey or colour; a colour VIS is
#                                 fused through its luminance and gets its
#                                 chroma back)
# Files pair by stem. The public IVIF sets ship no train / test split: every
# pair is used for training and for validation. To hold pairs out, write
# split files (one stem per line) and set `ann_file` of the dataloaders,
# e.g. ann_file='splits/train.txt' / 'splits/val.txt' (see docs/user_guides/datasets.md).
# Configs based on this file override `data_root` of every dataloader.
dataset_type = 'PairedImageDataset'
data_root = 'data/TNO/'
modalities = dict(ir='ir', vi='vi')  # modality name -> sub-folder (A, B)

# 64x64 training patches with flips and rotations (TIM, Sec. 4.1)
train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(64, 64)),
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
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file='',
        pipeline=train_pipeline))
# whole images of different sizes: one per batch
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file='',
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
