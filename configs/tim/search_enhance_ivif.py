# TIM stage 2: IAS search of N_T on the trained N_F (Sec. 4.2), IVIF;
# data/ivif with splits/search_{weights,arch}.txt (docs/methods/tim.md)
_base_ = [
    '../_base_/models/tim_two_stage_search.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/schedules/schedule_search_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='BilevelSearchAlgorithm',
    architecture=dict(
        type='ImageFusor',
        data_preprocessor=dict(
            type='FusionDataPreprocessor', pad_size_divisor=4),
        fusion_net=dict(
            type='TIMTwoStageFusionNet',
            stage1=_base_.tim_nf,
            stage1_init='work_dirs/fusion_ivif_tno/iter_10000.pth',
            stage2=_base_.tim_nt_space_ivif,
            branch_names=_base_.tim_branch_names),
        losses=_base_.ivif_branch_losses + [_base_.tim_saliency_loss]),
    space_path='fusion_net.stage2',
    frozen_modules=['fusion_net.stage1'],
    strategy=dict(type='IASStrategy'),
    arch_update_interval=20,  # T
    regularizer=None)

dataset_type = 'PairedImageDataset'
data_root = 'data/ivif/'
modalities = dict(ir='ir', vi='vi')
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
weights_split = 'splits/search_weights.txt'
arch_split = 'splits/search_arch.txt'
batch_size = 4
num_workers = 2

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file=weights_split,
        pipeline=search_pipeline))
train_cfg = dict(
    max_epochs=100,
    arch_dataloader=dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            data_prefix=modalities,
            ann_file=arch_split,
            pipeline=search_pipeline)))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=3))
custom_hooks = [
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
