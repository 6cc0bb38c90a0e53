# TIM's N_F with the genotype searched on RoadScene221 (seed 0), trained there
#   OMP_NUM_THREADS=1 python tools/train.py CONFIG
# Guide: docs/methods/tim_real_search.md
_base_ = ['./retrain_fusion_ivif_roadscene221_cpu.py']
max_iters = 1600

model = dict(
    fusion_net=dict(
        genotype='{{ fileDirname }}/genotypes/'
        'tim_fusion_roadscene221_ias_s0.yaml'))
train_dataloader = dict(batch_size=8)
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=max_iters,
         eta_min=1e-5)
]
train_cfg = dict(
    max_iters=max_iters, val_interval=max_iters, val_begin=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=max_iters))
