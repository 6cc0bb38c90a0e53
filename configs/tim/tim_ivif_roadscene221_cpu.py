# TIM two-stage IVIF network trained by the toolbox on real pairs, sized for
# 2 CPU cores (one torch thread).
#   OMP_NUM_THREADS=1 python tools/train.py configs/tim/tim_ivif_roadscene221_cpu.py
#   python benchmarks/bench_fusion_real.py --checkpoint TIM=configs/tim/\
#       tim_ivif_roadscene221_cpu.py:work_dirs/tim_ivif_roadscene221_cpu/iter_<N>.pth
# Network: the official two-stage model (../_base_/models/tim_ivif.py, as
# fusion_ivif_official.py): N_F genotype fusion_M + N_T Network_Fusion9_3,
# C = 48, 1,232,225 parameters. Data: the RoadScene221 training split (171
# pairs, none within the near-duplicate threshold of a RoadScene-50 or TNO
# test image; ../_base_/datasets/roadscene221_fusion.py). The test split is
# not read during training (no validation, no checkpoint selection); the
# last checkpoint is the result, scored by benchmarks/bench_fusion_real.py.
# Losses (Sec. 4.2): l_F (information preservation, weight-free gradient
# measure) on the stage-1 image, l_int on the target branch (IR), l_ssim on
# the detail branch (VIS), l_T (saliency-weighted intensity + SSIM) on the
# final image.
# Paper (TIM, Liu et al., TPAMI 2024, Sec. 4.1-4.2; GTX 1070 GPU): N_F
# trained first, N_T searched on top, then N_F + N_T trained jointly with
# Adam lr 1e-4 for 100 epochs of 64x64 patches (flips, rotations) of the
# TNO + RoadScene set; l_F with U2Fusion's VGG16 feature measure.
# Here: one joint run from scratch (no separate N_F stage, official N_T, no
# search), the gradient measure of l_F (no VGG16 file needed), Adam lr 1e-3
# cosine to 1e-5 (at lr 1e-4 the stage-2 head stays below the image range
# for hundreds of steps, docs/methods/tim.md), `max_iters` steps of batch 8
# 64x64 crops (training wall time: docs/model_zoo.md).
_base_ = [
    '../_base_/models/tim_ivif.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/default_runtime.py',
]
max_iters = 360

model = dict(
    fusion_net=dict(branch_names=('detail', 'target')),
    losses=[
        _base_.tim_stage1_info_loss,
        *_base_.ivif_branch_losses,
        _base_.tim_saliency_loss,
    ])

train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=max_iters,
         eta_min=1e-5)
]
# val_begin after the last step: the test split is never read in training
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters,
    val_begin=max_iters + 1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
