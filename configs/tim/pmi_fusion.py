# Pretext meta-initialisation (PMI, TIM Alg. 1 lines 6-13) of the fusion
# network N_F over four fusion tasks; writes work_dirs/pmi_fusion/
# pmi_init.pth, the initialisation theta_F^0 that the training configs load
# with `load_from` (see docs/methods/pmi.md):
#   python tools/train.py configs/tim/pmi_fusion.py
#   python tools/train.py configs/tim/fusion_mri_pet.py \
#       --cfg-options load_from=work_dirs/pmi_fusion/pmi_init.pth
#
# Tasks (one dataloader each, 64x64 patches with flips / rotations):
#   ivif      -- the embedded IR/VIS toy data, data/toy/{ir,vi} with its
#                train split (python tools/misc/make_toy_data.py data/toy
#                --num 300 --seed 0); this is the config's train_dataloader.
#                The paper uses TNO + RoadScene here: point data_root at
#                data/TNO/ (ann_file='') or concatenate both with a
#                ConcatDataset.
#   mri_ct    -- data/MRI_CT/{MRI,CT}
#   mri_pet   -- data/MRI_PET/{MRI,PET} (PET luminance)
#   mri_spect -- data/MRI_SPECT/{MRI,SPECT} (SPECT luminance)
# Hold a task out (e.g. to measure fast adaptation on it) by deleting its
# entry from train_cfg.tasks.
#
# Per outer iteration and task: K = 4 inner Adam steps with lr 1e-3 on 4
# batches, the loss f of the adapted weights on a 5th batch, the sum of the
# meta-gradients over the tasks applied by the outer optimiser with lr 1e-4
# (paper, Sec. 4.1). The paper writes the outer step as a plain gradient step
# and names Adam only for the inner steps; we use Adam for the outer step as
# well (as MAML does); optim_wrapper.optimizer=dict(type='SGD', lr=1e-4) is
# the literal Alg. 1. order='first' drops the Jacobian of the inner steps
# (first-order MAML), order='second' differentiates through them.
# Both l_F (inner) and f (outer) are the information-preservation loss, the
# U2Fusion-style measure the paper cites for both.
_base_ = [
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/models/tim_fusion_net.py',
    '../_base_/default_runtime.py'
]

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    # the network of configs/tim/fusion_ivif_tno.py / fusion_mri_ct.py (one
    # definition: ../_base_/models/tim_fusion_net.py)
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
