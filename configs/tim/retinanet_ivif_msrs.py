# Task-guided fusion on real MSRS pairs (TIM Sec. 3.1 / 4.3, Alg. 1 line
# 15): TIM's stage-1 fusion network N_F (../_base_/models/tim_fusion_net.py)
# feeds the detector of the task-driven protocol (RetinaNet, ResNet-18 at
# half width, FPN P3-P7, from scratch:
# ../_base_/models/retinanet_r18_half_msrs.py, the network that
# tools/analysis_tools/task_protocol.py trains on each method's fused images) and
# both are trained on l_T + eta * l_F. FPN variant; the searched-neck
# variant is retinanet_ivif_msrs_searched_neck.py.
#
# Data: MSRS_det (../_base_/datasets/msrs_det.py): the protocol's block
# split (142 train / 59 val / 58 test pairs), the `fusion` labels as ground
# truth, 640 x 480 input.
#   python tools/train.py configs/tim/retinanet_ivif_msrs.py
#   python tools/test.py configs/tim/retinanet_ivif_msrs.py \
#       work_dirs/retinanet_ivif_msrs/iter_2400.pth
#
# Budget and initialisation, as the protocol's detector: batch 4, AdamW lr
# 2e-3 (weight decay 1e-4, clipping at 10) with a 200-iteration linear
# warm-up and a cosine decay over 2000 detector iterations. Before them,
# `warmup` iterations train N_F alone on l_F (FusionWarmupHook; the
# detector's schedule starts after it), so the detector sees as many
# iterations as in the protocol. N_F learns at half the detector's rate
# (lr_mult 0.5: 1e-3, the rate of the fusion trainings). The same initial
# detector weights as a protocol run of seed S:
#   --cfg-options model.task_init=work_dirs/task_protocol/init/seed_S.pth \
#       randomness.seed=S
# (written by tools/analysis_tools/task_protocol.py; without it the detector starts from the
# config's own random initialisation). To start N_F from a fusion
# checkpoint of the same network instead of the warm-up:
#   --cfg-options model.fusion_init=PATH custom_hooks.0.warmup=0 \
#       param_scheduler.0.begin=0 param_scheduler.0.end=200 \
#       param_scheduler.1.begin=200 param_scheduler.1.end=2000 \
#       train_cfg.max_iters=2000
_base_ = [
    '../_base_/models/fusion_retinanet_r18.py',
    '../_base_/models/retinanet_r18_half_msrs.py',
    '../_base_/datasets/msrs_det.py',
    '../_base_/default_runtime.py',
]

warmup = 400  # fusion-only iterations before the detector's schedule
det_iters = 2000  # the protocol's detector budget

model = dict(
    detector=dict(
        _delete_=True, type='RetinaNet', **_base_.retinanet_r18_half_msrs),
    # the protocol's saved initial detector weights (see above)
    task_init=None)

train_dataloader = dict(num_workers=2)
val_dataloader = dict(num_workers=2)
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2),
    paramwise_cfg=dict(custom_keys={'fusion_net': dict(lr_mult=0.5)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=False,
        begin=warmup,
        end=warmup + 200),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=warmup + 200,
        end=warmup + det_iters,
        T_max=det_iters - 200,
        eta_min=2e-5),
]
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=warmup + det_iters,
    val_interval=warmup + det_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

custom_hooks = [
    dict(type='FusionWarmupHook', warmup=warmup),
    # fused validation / test images next to the logs
    dict(type='FusedImageSaveHook'),
]
default_hooks = dict(
    logger=dict(interval=50),
    # the last checkpoint only (a killed run resumes from it)
    checkpoint=dict(interval=200, max_keep_ckpts=1))
