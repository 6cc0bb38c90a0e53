# TIM IAS search of N_F (Sec. 3.2 / 4.1), IVIF and MRI-CT alternating per
# epoch; needs splits/search_{weights,arch}.txt in both folders
# Guide: docs/user_guides/search.md
_base_ = [
    '../_base_/models/tim_search_space.py',
    '../_base_/schedules/schedule_search_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='BilevelSearchAlgorithm',
    architecture=dict(
        type='ImageFusor',
        data_preprocessor=dict(
            type='FusionDataPreprocessor', pad_size_divisor=4),
        fusion_net=_base_.tim_search_space,
        losses=[
            dict(type='MaxIntensityLoss', loss_weight=1.0),
            dict(type='MaxGradientLoss', loss_weight=2.0),
        ]),
    space_path='fusion_net',
    strategy=dict(type='IASStrategy'),  # variant='paper' (default)
    arch_update_interval=20,  # T
    regularizer=None)

dataset_type = 'PairedImageDataset'
search_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(64, 64)),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PackFusionInputs'),
]
ivif = dict(
    type=dataset_type,
    data_root='data/ivif/',
    data_prefix=dict(ir='ir', vi='vi'),
    pipeline=search_pipeline)
mif = dict(
    type=dataset_type,
    data_root='data/MRI_CT/',
    data_prefix=dict(mri='MRI', ct='CT'),
    pipeline=search_pipeline)
weights_split = 'splits/search_weights.txt'
arch_split = 'splits/search_arch.txt'
batch_size = 4
# not persistent: a resumed search draws the crops of an uninterrupted one
num_workers = 2

train_dataloader = [
    dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(ivif, ann_file=weights_split)),
    dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(mif, ann_file=weights_split)),
]
train_cfg = dict(
    max_epochs=100,
    arch_dataloader=[
        dict(
            batch_size=batch_size,
            num_workers=num_workers,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(ivif, ann_file=arch_split)),
        dict(
            batch_size=batch_size,
            num_workers=num_workers,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(mif, ann_file=arch_split)),
    ])

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=3))
# TIM's staged search (Sec. 4.1): cell-level alpha 20 epochs, ops 80
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        stages=[
            dict(begin=0, end=20, levels=[0]),
            dict(begin=20, end=100, levels=[1]),
        ]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
