# DCNAS supernet (B=4, C=16) on NYU v2, uniform single-path sampling, the
# official schedule (docs/methods/dcnas.md)
_base_ = ['../../_base_/datasets/gisr_nyu.py', '../../_base_/default_runtime.py']
num_features = 16
num_blocks = 4
model = dict(
    type='GuidedDepthSR',
    network=dict(
        type='DCNASNet', num_features=num_features, num_blocks=num_blocks),
    loss_space='native')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[6300], gamma=0.5)
]
train_cfg = dict(
    type='OneShotIterBasedTrainLoop',
    max_iters=7560,
    val_interval=1260,
    sampler=dict(type='UniformPathSampler', seed=60))
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(interval=1260), logger=dict(interval=50))
randomness = dict(seed=60)
# the supernet (and the predictor and search built on it) trains on the
# training ids without search_val, which scores the paths; retrain: train.txt
train_dataloader = dict(dataset=dict(split_file='search_train.txt'))
