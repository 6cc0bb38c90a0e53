# Toy sibling of search_fusion_ivif.py; the second "task" is the toy pairs
# stacked (vi, ir) (no toy medical data) (docs/user_guides/search.md)
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
        fusion_net=dict(_base_.tim_search_space, channels=8),
        losses=[
            dict(type='MaxIntensityLoss', loss_weight=1.0),
            dict(type='MaxGradientLoss', loss_weight=2.0),
        ]),
    space_path='fusion_net',
    strategy=dict(type='IASStrategy'),  # variant='paper' (default)
    arch_update_interval=5,
    regularizer=None)

dataset_type = 'PairedImageDataset'
data_root = 'data/toy/'
ivif_order = dict(ir='ir', vi='vi')  # task 0: (ir, vi) stacks
swapped_order = dict(vi='vi', ir='ir')  # task 1: (vi, ir) stacks
search_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(32, 32)),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PackFusionInputs'),
]
weights_split = 'splits/search_weights.txt'
arch_split = 'splits/search_arch.txt'
batch_size = 4

train_dataloader = [
    dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            data_prefix=ivif_order,
            ann_file=weights_split,
            pipeline=search_pipeline)),
    dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            data_prefix=swapped_order,
            ann_file=weights_split,
            pipeline=search_pipeline)),
]
train_cfg = dict(
    max_epochs=4,
    arch_dataloader=[
        dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(
                type=dataset_type,
                data_root=data_root,
                data_prefix=ivif_order,
                ann_file=arch_split,
                pipeline=search_pipeline)),
        dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(
                type=dataset_type,
                data_root=data_root,
                data_prefix=swapped_order,
                ann_file=arch_split,
                pipeline=search_pipeline)),
    ])
# alpha at 10x the real search's lr, to move in 45 alpha steps
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-3)))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=2))
# TIM's staged search scaled to 4 epochs: cell-level alpha in epoch 0
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        stages=[
            dict(begin=0, end=1, levels=[0]),
            dict(begin=1, end=None, levels=[1]),
        ]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
