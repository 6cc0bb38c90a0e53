# TIM IAS search of N_F on real RoadScene221 pairs (IVIF only), 2 CPU cores
#   OMP_NUM_THREADS=1 python tools/train.py CONFIG
# Guide: docs/methods/tim_real_search.md
_base_ = [
    '../_base_/models/tim_search_space.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/schedules/schedule_search_100e.py',
    '../_base_/default_runtime.py',
]

channels = 16
crop_size = (64, 64)
batch_size = 4
max_epochs = 6
cell_epochs = 2  # cell-level α first (paper: 20 of 100 epochs)

model = dict(
    type='BilevelSearchAlgorithm',
    architecture=dict(
        type='ImageFusor',
        data_preprocessor=dict(
            type='FusionDataPreprocessor', pad_size_divisor=4),
        fusion_net=dict(_base_.tim_search_space, channels=channels),
        losses=_base_.tim_fusion_losses),
    space_path='fusion_net',
    strategy=dict(type='IASStrategy'),  # variant='paper' (default)
    arch_update_interval=5,  # T
    regularizer=None)

search_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=crop_size),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PackFusionInputs'),
]

train_dataloader = dict(
    _delete_=True,
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        _base_.search_weights_dataset, pipeline=search_pipeline))
train_cfg = dict(
    max_epochs=max_epochs,
    arch_dataloader=dict(
        batch_size=batch_size,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            _base_.search_arch_dataset, pipeline=search_pipeline)))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

# alpha: 10x the paper's lr (only 26 alpha steps)
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-3)))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=1))
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        stages=[
            dict(begin=0, end=cell_epochs, levels=[0]),
            dict(begin=cell_epochs, end=None, levels=[1]),
        ]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
