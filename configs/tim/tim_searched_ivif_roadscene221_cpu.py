# TIM's N_F with the genotype that TIM's fusion search derived on real pairs
# (search_fusion_ivif_roadscene221_cpu.py, IAS, search seed 0: the first seed
# of the real-data control, docs/user_guides/search_controls.md), trained as
# the other real-data TIM networks (tim_light_ivif_roadscene221_cpu.py): the
# RoadScene221 training split (171 pairs; the test split is never read in
# training), TIM's fusion losses, Adam lr 1e-3 cosine to 1e-5, 1600 steps of
# batch 8 64x64 crops, one torch thread, at the search's width C = 16.
#   OMP_NUM_THREADS=1 python tools/train.py configs/tim/tim_searched_ivif_roadscene221_cpu.py
#   python benchmarks/bench_fusion_real.py --datasets TNO RoadScene \
#       --methods TIM-searched --checkpoint TIM-searched=configs/tim/\
#       tim_searched_ivif_roadscene221_cpu.py:work_dirs/tim_searched_ivif_roadscene221_cpu/iter_1600.pth \
#       --merge docs/results/fusion_real.json
# The genotype file is genotypes/tim_fusion_roadscene221_ias_s0.yaml (its
# alpha barely left the uniform initialisation in the 26 alpha steps of the
# CPU search: the choices are near-ties).
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
