# TIM fusion network N_F trained on Harvard MRI-CT pairs.
# Data: data/MRI_CT/{MRI,CT}/<stem>.png, sources stacked (mri, ct) (see
# configs/_base_/datasets/medical_fusion.py; every pair is used for training
# and validation unless split files are given).
#   python tools/train.py configs/tim/fusion_mri_ct.py
# Start from the pretext meta-initialisation (docs/methods/pmi.md):
#   python tools/train.py configs/tim/fusion_mri_ct.py \
#       --cfg-options load_from=work_dirs/pmi_fusion/pmi_init.pth
#
# Network, losses and schedule as configs/tim/fusion_ivif_tno.py (the
# official stage-1 N_F, genotype fusion_M, shared by all fusion tasks so that
# one PMI initialisation loads everywhere: one definition,
# ../_base_/models/tim_fusion_net.py).
_base_ = [
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/models/tim_fusion_net.py',
    '../_base_/datasets/medical_fusion.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=_base_.tim_fusion_net,
    losses=_base_.tim_fusion_losses)

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=10000, eta_min=1e-6)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1000))
custom_hooks = [dict(type='FusedImageSaveHook')]
