# TIM light IVIF network (the paper's TIM_w/L) trained by the toolbox on real
# pairs, sized for 2 CPU cores (one torch thread).
#   OMP_NUM_THREADS=1 python tools/train.py configs/tim/tim_light_ivif_roadscene221_cpu.py
#   python benchmarks/bench_fusion_real.py --checkpoint TIM-light=configs/tim/\
#       tim_light_ivif_roadscene221_cpu.py:work_dirs/tim_light_ivif_roadscene221_cpu/iter_<N>.pth
# Network: the official latency-constrained N_F (../_base_/models/
# tim_ivif_light.py, as fusion_ivif_light_official.py): two successive cells
# [Residualblocks_3_1, ECAattention_3], C = 48, 127,358 parameters. Data: the
# RoadScene221 training split (171 pairs, leak-free against RoadScene-50 and
# TNO; ../_base_/datasets/roadscene221_fusion.py). The test split is not read
# during training (no validation, no checkpoint selection); the last
# checkpoint is the result, scored by benchmarks/bench_fusion_real.py.
# Losses (Sec. 4.2): l_F (information preservation, weight-free gradient
# measure) + l_T (saliency-weighted intensity + SSIM), as every TIM N_F.
# Paper (TIM, Liu et al., TPAMI 2024; GTX 1070 GPU): the light N_F is found
# by the latency-constrained search (lambda = 2) and trained on 64x64
# patches of the TNO + RoadScene set, Adam lr 1e-4, 100 epochs; l_F with
# U2Fusion's VGG16 feature measure.
# Here: the official genotype trained from scratch (no search, no PMI), the
# gradient measure of l_F, Adam lr 1e-3 cosine to 1e-5, `max_iters` steps of
# batch 8 64x64 crops (training wall time: docs/model_zoo.md).
_base_ = [
    '../_base_/models/tim_ivif_light.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/default_runtime.py',
]
max_iters = 1600

model = dict(losses=_base_.tim_fusion_losses)

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
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
