# DCNAS x4: retrain the committed real-depth genotype on all 40 RGB-D-D pairs,
# test on Middlebury (OMP_NUM_THREADS=1 python tools/train.py CONFIG)
# Guide: docs/methods/dcnas_real_search.md
_base_ = ['./supernet_rgbdd_x4.py']
max_iters = 1000
model = dict(network=dict(_delete_=True, type='GenotypeNet',
                          genotype='configs/dcnas/genotypes/'
                          'dcnas_rgbdd_x4_s0.yaml'))
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
