# Multi-modality medical image fusion on the Harvard-atlas layout:
#   data/MRI_CT/{MRI,CT}/<stem>.png, data/MRI_PET/{MRI,PET}/...,
#   data/MRI_SPECT/{MRI,SPECT}/...   (256x256 registered slices)
# MRI and CT are grey; PET and SPECT are colour and are fused through their
# luminance (Y of YCbCr; the chroma is re-attached to the prediction).
# Sources are stacked as (mri, <other>). There is no official split: every
# pair is used for training and validation; set `ann_file` of the
# dataloaders to a split file to hold pairs out (see docs/user_guides/datasets.md).
# Configs based on this file override `data_root` and `data_prefix`
# (with `_delete_=True`) of every dataloader; this file describes MRI-CT.
dataset_type = 'PairedImageDataset'
data_root = 'data/MRI_CT/'
modalities = dict(mri='MRI', ct='CT')  # modality name -> sub-folder (A, B)

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
val_dataloader = dict(
    batch_size=4,
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

# EN, MI, VIF and SCD are the metrics of the paper's medical comparison
val_evaluator = [
    dict(
        type='FusionMetric',
        preset='cddfuse',
        metrics=['EN', 'SD', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM'])
]
test_evaluator = val_evaluator
