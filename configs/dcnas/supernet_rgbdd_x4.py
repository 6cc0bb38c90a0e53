# DCNAS x4 on real RGB-D-D: supernet training (uniform paths) on the 32
# search-train pairs, toy space (B=2, C=8); docs/methods/dcnas_real_search.md
_base_ = ['../_base_/datasets/gisr_rgbdd40.py', '../_base_/default_runtime.py']
num_features = 8
num_blocks = 2
model = dict(
    type='GuidedDepthSR',
    network=dict(
        type='DCNASNet', num_features=num_features, num_blocks=num_blocks),
    loss_space='normalised')
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = []
train_cfg = dict(
    type='OneShotIterBasedTrainLoop',
    max_iters=600,
    val_interval=600,
    sampler=dict(type='UniformPathSampler', seed=0))
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=100), logger=dict(interval=50))
work_dir = 'work_dirs/dcnas_rgbdd_x4'
