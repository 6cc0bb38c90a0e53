# Task-guided search of RetinaNet's neck (TIM Sec. 4.3.1) on the toy data,
# with N_F plugged in: the FusionDetector of retrain_retinanet_ivif_toy.py
# whose neck is the searchable distillation neck (6 cells fusing ResNet-18
# C2-C5 top-down then bottom-up, outputs at strides 4-32 like the toy FPN;
# every edge chooses among TIM's 11 task operators).
# N_F and the detector's weights are trained jointly on l_T + eta * l_F
# (splits/search_weights: half of the train images); alpha on the same loss
# on the other half (search_arch); the val split, on which
# retrain_retinanet_ivif_toy.py evaluates, is never seen. Toy size: 2 nodes
# per cell (the paper: 4), 32 channels, 100 iterations: 20 weights-only
# warm-up (ArchScheduleHook), then an alpha step after every weight step.
#   python tools/train.py configs/tim/search_retinanet_ivif_toy.py
#   -> work_dirs/search_retinanet_ivif_toy/genotypes/latest.yaml
#   python tools/train.py configs/tim/retrain_retinanet_ivif_toy.py
# Strategy: DARTS first order, alpha Adam lr 3e-2, supernet warm-up, toy
# backbone trained (the recipe that makes the decoder search beat random,
# search_deeplabv3plus_r18_msrs_toy.py), and a P-DARTS-style cap at
# derivation: at most 2 of the 18 edges may be parameter-free / 1x1
# (skip, conv_1; SkipCountRegularizer with loss_weight=0 and budget=2).
# Why the cap: uncapped, DARTS derives the cheapest necks of the space, the
# known parameter-free collapse of DARTS (Zela et al. 2020; Chu et al.
# 2021). The cap is a default, not an established winner: the toy control
# cannot separate the necks beyond the retrain noise, and this 64 px proxy
# cannot see the neck's operators (an all-skip neck scores at the random
# median here, worst in the 128 px headline pipeline). Results of the
# controls, capped and uncapped, with the task loss as score and at 128 px
# (search_retinanet_ivif_headline_toy.py): docs/methods/tim_neck_search.md
# and docs/user_guides/search_controls.md. The proxy setting (64 px,
# anchors 0.4 x stride) gives every pyramid level positives
# (projects/reproductions/bench_neck_anchor_levels.py).
# The control (300 retraining iterations by default; see
# docs/methods/tim_neck_search.md for why):
#   benchmarks/bench_search_vs_random.py --spaces tim_neck --strategies \
#       darts1 --retrain-seeds 3 --argmax-too --jobs 14
# (the capped and the plain argmax genotype of the same alpha side by side)
# TIM's IAS instead: --cfg-options model.strategy.type=IASStrategy \
#                   model.arch_update_interval=5
_base_ = [
    './retrain_retinanet_ivif_toy.py',
    '../_base_/models/tim_neck_search_space.py'
]

# keys neck/cell<c>/edge<e>: 6 cells x 3 edges
neck_space = _base_.tim_neck_space_toy

# The search's proxy setting (where its control runs): the toy pairs
# at 64 px (the retrain config's 128 px up-samples the toy objects, 4x the
# cost) with RetinaNet anchors of 0.4 x stride (the detector's 2 x stride,
# meant for 128 px, gives the stride-16 / 32 outputs no positive at 64 px
# and their cells no alpha gradient); the retrain config keeps the
# detector's own 128 px and anchors.
search_scale = (64, 64)
# at most this many parameter-free / 1x1 edges (skip, conv_1) in the
# derived neck (the regulariser's budget below)
cheap_op_cap = 2
search_anchors = dict(
    _base_.model.detector.bbox_head.anchor_generator, octave_base_scale=0.4)
search_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=search_scale),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]

model = dict(
    _delete_=True,
    type='BilevelSearchAlgorithm',
    architecture=dict(
        _base_.model,
        detector=dict(
            _base_.model.detector,
            neck=neck_space,
            bbox_head=dict(
                _base_.model.detector.bbox_head,
                anchor_generator=search_anchors))),
    space_path='detector.neck',
    strategy=dict(type='DartsFirstOrderStrategy'),
    # TIM fixes the *pre-trained* backbone during the task-module search
    # (the real-data config: frozen_modules=['detector.backbone']); the
    # toy backbone has no pre-trained weights, and a frozen random backbone
    # gives the searched part no task signal, so it is trained here
    frozen_modules=[],
    arch_update_interval=1,
    # P-DARTS-style cap at derivation (no penalty: loss_weight=0): the
    # derived neck keeps at most `cheap_op_cap` parameter-free / 1x1 edges
    # (skip, conv_1) of its 18; above it, the cheap edges whose best other
    # operator loses the least softmax(alpha) switch to it (greedy,
    # SkipCountRegularizer.fit_to_budget; meta.budget_swaps lists them).
    # Uncapped, DARTS derived 5 and 10 such edges (uniform: 3.3); the
    # control against 8 random necks with and without the cap is in
    # docs/methods/tim_neck_search.md. No cap:
    # --cfg-options model.regularizer=None
    regularizer=dict(
        type='SkipCountRegularizer',
        loss_weight=0.0,
        skip_names=('skip', 'conv_1'),
        budget=cheap_op_cap))

arch_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        data_prefix=_base_.modalities,
        ann_file='annotations/instances_search_arch.json',
        metainfo=dict(classes=_base_.classes),
        pipeline=search_pipeline))
train_dataloader = dict(
    dataset=dict(
        ann_file='annotations/instances_search_weights.json',
        pipeline=search_pipeline))
train_cfg = dict(
    _delete_=True,
    type='BilevelIterBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_iters=100,
    val_interval=100)
# no validation: the retrain config evaluates the derived neck
val_dataloader = None
val_evaluator = None
val_cfg = None

optim_wrapper = dict(
    _delete_=True,
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
        clip_grad=dict(max_norm=10.0)),
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=3e-2, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(
    _delete_=True,
    weights=[
        dict(
            type='CosineAnnealingLR',
            by_epoch=False,
            T_max=100,
            eta_min=1e-5)
    ],
    arch=[])

default_hooks = dict(checkpoint=dict(interval=50))
# a weights-only warm-up of the supernet (no alpha step, no alpha batch)
# for the first 20 iterations, then alpha on every iteration
warmup_iters = 20
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        by_epoch=False,
        stages=[
            dict(begin=0, end=warmup_iters, keys=[]),
            dict(begin=warmup_iters)
        ]),
    # softmax(alpha) to the log and the derived genotype to
    # <work_dir>/genotypes/{iter_<N>,latest}.yaml
    dict(type='ArchLoggingHook', interval=10, by_epoch=False),
    dict(type='GenotypeExportHook', interval=50, by_epoch=False),
]
