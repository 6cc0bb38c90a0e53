# Runtime shared by every MMFuseNAS config.
default_scope = 'mmfusenas'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic_local: a checkpoint file is written to a temporary name and
    # renamed, so an interrupted save never leaves a truncated .pth
    checkpoint=dict(
        type='CheckpointHook',
        interval=100,
        by_epoch=False,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

# losses and metrics also go to <work_dir>/<timestamp>/vis_data/scalars.json
vis_backends = [dict(type='LocalVisBackend')]
# no fixed `name`: the Runner then names the instance after the experiment,
# so two runs in one process never share (and mix) their logs
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
# TensorBoard switch: True (here, in a config, or `--tensorboard` /
# `--cfg-options tensorboard=True` on tools/train.py / test.py) adds
# MMEngine's TensorboardVisBackend (event files next to scalars.json;
# `tensorboard --logdir work_dirs`). Needs `pip install tensorboard`.
tensorboard = False

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
