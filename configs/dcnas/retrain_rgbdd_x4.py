# DCNAS x4 on real RGB-D-D pairs: retrain the genotype searched on real depth
# (search_rgbdd_x4.py; the committed result is
# configs/dcnas/genotypes/dcnas_rgbdd_x4_s0.yaml) from scratch on all 40
# RGB-D-D pairs and test it on Middlebury (8-bit levels). The multi-seed
# comparison with the official StaticModel, the size-matched hand-designed
# networks and bicubic on Middlebury and Lu at x4 / x8 is
# projects/reproductions/bench_dcnas_control.py --mode real
# (docs/methods/dcnas_benchmarks.md); this config is the same retraining as a
# plain MMEngine run (1000 iterations of batch 8, Adam 1e-3, x0.5 at 80 %).
#   OMP_NUM_THREADS=1 python tools/train.py configs/dcnas/retrain_rgbdd_x4.py
#   python tools/test.py configs/dcnas/retrain_rgbdd_x4.py \
#       work_dirs/dcnas_rgbdd_x4/retrain/iter_1000.pth
_base_ = ['./supernet_rgbdd_x4.py']
max_iters = 1000
model = dict(network=dict(_delete_=True, type='GenotypeNet',
                          genotype='configs/dcnas/genotypes/'
                          'dcnas_rgbdd_x4_s0.yaml'))
# all 40 pairs (the search's two halves)
train_dataloader = dict(dataset=dict(split_file=None))
val_dataloader = {{_base_.test_dataloader}}
val_evaluator = {{_base_.test_evaluator}}
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[800], gamma=0.5)
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                 max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=200))
work_dir = 'work_dirs/dcnas_rgbdd_x4/retrain'
