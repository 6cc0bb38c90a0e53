# Runtime shared by every MMFuseNAS config.
default_scope = 'mmfusenas'

# MMEngine's Runner; tools/train.py locks the work dir while training (one
# run per work dir; --cfg-options work_dir_lock=False opts out)
work_dir_lock = True

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic_local: a checkpoint file is written to a temporary name and
    # renamed, so an interrupted save never leaves a truncated .pth;
    # SafeCheckpointHook refuses non-finite state and removes old checkpoints
    # only after the new one and last_checkpoint are durably written
    checkpoint=dict(
        type='SafeCheckpointHook',
        interval=100,
        by_epoch=False,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # load_from / resume: checked file, strict keys, finite state, and
    # auto-resume from the newest usable checkpoint (strict=False: the
    # matching part of a checkpoint)
    checked_load=dict(type='CheckedLoadHook', strict=True),
    # no optimizer step on NaN / Inf gradients (weights, α, loss weights);
    # action='skip' drops such steps instead of stopping
    finite_guard=dict(type='FiniteStepGuardHook', action='raise'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
# no `name`: one Visualizer per run, so two runs never mix their logs
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
# True (or tools/train.py --tensorboard) adds TensorBoard event files
tensorboard = False

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)

# --launcher runs (docs/user_guides/distributed.md); the scope prefix:
# the runner looks the type up in MMEngine's root registry
model_wrapper_cfg = dict(type='mmfusenas.AlgorithmDistributedDataParallel')
