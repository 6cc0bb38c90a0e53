# TIM MRI-CT network trained by the toolbox on real pairs, sized for 2 CPU
# cores (short budget, one torch thread).
#   OMP_NUM_THREADS=1 python tools/train.py configs/tim/tim_mri_ct_harvard_cpu.py
#   python benchmarks/bench_fusion_real.py --datasets MRI_CT --checkpoint \
#       TIM-ct=configs/tim/tim_mri_ct_harvard_cpu.py:work_dirs/tim_mri_ct_harvard_cpu/iter_<N>.pth
# Network: the official MRI-CT model (../_base_/models/tim_mri_ct.py, as
# fusion_mri_ct_official.py): N_F genotype fusion_M + N_T Network_Fusion9_2,
# C = 48. Data: the Harvard MRI-CT training split (every pair of the full
# set not within the near-duplicate threshold of an MRI_CT test image;
# ../_base_/datasets/harvard_ct_fusion.py). The test split is not read
# during training (no validation, no checkpoint selection); the last
# checkpoint is the result, scored by benchmarks/bench_fusion_real.py.
# Losses (Sec. 4.2): l_F (information preservation, weight-free gradient
# measure) on the stage-1 image, l_int on the target branch (CT), l_ssim
# on the detail branch (MRI), l_T on the final image.
# Paper (TIM, Liu et al., TPAMI 2024; GTX 1070 GPU): N_F trained first,
# N_T searched on 150 Harvard pairs, then N_F + N_T trained jointly, Adam
# lr 1e-4, 100 epochs of 64x64 patches; l_F with U2Fusion's VGG16 measure.
# Here: one joint run from scratch (official N_T, no search), the gradient
# measure of l_F, Adam lr 1e-3 cosine to 1e-5, `max_iters` steps of batch 8
# 64x64 crops (training wall time: docs/model_zoo.md).
_base_ = [
    '../_base_/models/tim_mri_ct.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/datasets/harvard_ct_fusion.py',
    '../_base_/default_runtime.py',
]
max_iters = 200

model = dict(
    # sources stacked (mri, ct), no swap: the first branch reads MRI
    # (detail), the second CT (target extraction)
    fusion_net=dict(branch_names=('detail', 'target')),
    losses=[
        _base_.tim_stage1_info_loss,
        *_base_.medical_branch_losses,
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
