# Toy DCNAS supernet (B=2, C=8) on the toy RGB-D data (docs/methods/dcnas.md)
_base_ = ['../../_base_/datasets/gisr_toy.py', '../../_base_/default_runtime.py']
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
    max_iters=300,
    val_interval=300,
    sampler=dict(type='UniformPathSampler', seed=0))
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=300), logger=dict(interval=50))
