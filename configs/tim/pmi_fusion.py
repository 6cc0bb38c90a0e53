# Pretext meta-initialisation of N_F over four fusion tasks (TIM Alg. 1),
# writes work_dirs/pmi_fusion/pmi_init.pth for load_from (docs/methods/pmi.md)
_base_ = [
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/models/tim_fusion_net.py',
    '../_base_/default_runtime.py'
]

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=_base_.tim_fusion_net,
    losses=[_base_.tim_info_loss])

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


def _task_loader(data_root, modalities, ann_file=''):
    return dict(
        batch_size=4,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(
            type='PairedImageDataset',
            data_root=data_root,
            data_prefix=modalities,
            ann_file=ann_file,
            pipeline=train_pipeline))


train_dataloader = _task_loader('data/toy/', dict(ir='ir', vi='vi'),
                                'splits/train.txt')
train_cfg = dict(
    type='PMILoop',
    tasks=[
        dict(name='ivif'),  # uses train_dataloader
        dict(
            name='mri_ct',
            dataloader=_task_loader('data/MRI_CT/', dict(mri='MRI', ct='CT'))),
        dict(
            name='mri_pet',
            dataloader=_task_loader('data/MRI_PET/',
                                    dict(mri='MRI', pet='PET'))),
        dict(
            name='mri_spect',
            dataloader=_task_loader('data/MRI_SPECT/',
                                    dict(mri='MRI', spect='SPECT'))),
    ],
    max_iters=2000,
    inner_steps=4,
    inner_lr=1e-3,
    inner_optimizer='adam',
    order='first')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=500))
