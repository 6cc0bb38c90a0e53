# TIM fusion network N_F trained on TNO infrared-visible pairs.
# Data: data/TNO/{ir,vi}/<stem>.<ext> (see configs/_base_/datasets/
# ivif_fusion.py; every pair is used for training and validation unless
# split files are given).
#   python tools/train.py configs/tim/fusion_ivif_tno.py
# Start from the pretext meta-initialisation (docs/methods/pmi.md):
#   python tools/train.py configs/tim/pmi_fusion.py
#   python tools/train.py configs/tim/fusion_ivif_tno.py \
#       --cfg-options load_from=work_dirs/pmi_fusion/pmi_init.pth
#
# Network: the official stage-1 N_F (genotype fusion_M: multi-scale fusion
# cell [Residualblocks_3_1, DilConv_3_2] + successive cell
# [Denseblocks_3_1, DilConv_3_2], C = 48, 994,917 parameters), shared by
# IVIF and medical fusion, so one PMI initialisation loads into every
# fusion_ivif_* / fusion_mri_* config (one definition for all:
# ../_base_/models/tim_fusion_net.py). Sources are stacked (ir, vi). The
# multi-scale cell needs H, W multiples of 4 (pad_size_divisor=4;
# predictions are cropped back).
# Losses (docs/user_guides/fusion_losses.md): l_F, the information-preservation loss
# (adaptive per-image source weights) + l_T, the saliency-weighted intensity
# / SSIM loss of Sec. 4.2. mu (ssim_weight) is not given in the paper: 1.
# Schedule: Adam, lr 1e-4 (Sec. 4.2), 10k iterations of 8 patches.
_base_ = [
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/models/tim_fusion_net.py',
    '../_base_/datasets/ivif_fusion.py',
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
# write the fused validation / test images next to the logs
custom_hooks = [dict(type='FusedImageSaveHook')]
