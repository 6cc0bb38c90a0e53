# Cooperative search across a chain of pre-modules (beyond the papers): the
# RUAS scene module (alpha keys scene/edge<e>), TIM's N_F (fusion/cell<c>/
# op<o>: the ops of two fixed cells) and the RetinaNet neck (the searchable
# distillation neck, neck/cell<c>/edge<e>) of chain_retinanet_night_toy.py,
# searched together on night-time toy pairs by RUAS's cooperative strategy
# generalised to three parts (CooperativeSearchAlgorithm(parts=...),
# docs/methods/compose.md). Part by part, in data-flow order, each iteration:
#   alpha_i step: its own first-order DARTS gradient on its own loss
#     + beta * the gradient of the later parts' validation losses
#     (scene <- fusion + detection, fusion <- detection);
#   w_i step on its own loss (scene: l_s, fusion: l_F, detector: l_T).
# Weights on annotations/instances_search_weights.json, alpha on
# instances_search_arch.json (halves of the train images); the val split,
# on which the retrain config evaluates, is never seen.
#   python tools/misc/make_toy_data.py data/toy_night --num 300 --seed 0 \
#       --night-fraction 1.0 --night-darkness 4
#   python tools/train.py configs/compose/search_chain_retinanet_night_toy.py
#   -> work_dirs/search_chain_retinanet_night_toy/genotypes/latest.yaml
#   python tools/train.py configs/compose/retrain_chain_retinanet_night_toy.py
# Strategy: cooperative (beta = 1, first-order DARTS in every part), alpha
# Adam lr 1e-2 over 120 iterations with alpha batches of 8 (weights: 4).
# Evidence that its genotypes beat random ones of this space:
# benchmarks/bench_search_vs_random.py --quick --spaces chain
# (docs/methods/compose.md, "The control at 120 search iterations"). Why
# these two numbers: with Adam alpha moves ~lr per step whatever the
# gradient, so a larger lr scales signal and noise alike; what raises the
# signal-to-noise of the derived argmax is sqrt(alpha steps x alpha batch).
# The TIM decoder's recipe (alpha lr 3e-2 after a weights-only warm-up)
# makes the derived neck collapse to cheap ops, the failure of the TIM neck
# control (docs/user_guides/search.md). The toy backbone has no pre-trained
# weights, so it is searched with the rest (frozen_modules=[]); with a
# pre-trained backbone set
# --cfg-options model.frozen_modules="['detector.backbone']" as TIM and RUAS
# do.
_base_ = [
    './chain_retinanet_night_toy.py',
    '../_base_/models/chain_search_space.py'
]

fusion_space = _base_.chain_fusion_space
scene_space = dict(type='RUASNet', scene={{_base_.ruas_scene_space}})
neck_channels = 32
# the toy neck space (outputs at strides 4-32 as the toy RetinaHead's anchors)
neck_space = _base_.tim_neck_space_toy

_chain = _base_.model.chain_net
model = dict(
    _delete_=True,
    type='CooperativeSearchAlgorithm',
    architecture=dict(
        _base_.model,
        chain_net=dict(
            _chain,
            stages=[
                dict(_chain.stages[0], module=scene_space),
                dict(_chain.stages[1], module=fusion_space),
            ]),
        detector=dict(
            _base_.model.detector,
            neck=neck_space,
            bbox_head=dict(
                _base_.model.detector.bbox_head,
                in_channels=neck_channels))),
    strategy=_base_.chain_search_strategy,
    parts=_base_.chain_search_parts,
    # one genotype of the whole model; the retrain config rebuilds each
    # part in its place with GenotypeNet(part=...)
    space_path='',
    frozen_modules=[])

train_dataloader = dict(
    batch_size=4,
    dataset=dict(ann_file='annotations/instances_search_weights.json'))
arch_dataloader = dict(
    _base_.train_dataloader,
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _base_.train_dataloader.dataset,
        ann_file='annotations/instances_search_arch.json'))
train_cfg = dict(
    _delete_=True,
    type='BilevelIterBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_iters=120,
    val_interval=120)
# no validation: the retrain config evaluates the derived architecture
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

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
            type='Adam', lr=1e-2, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(_delete_=True, weights=[], arch=[])
custom_hooks = [
    dict(type='ArchLoggingHook', interval=10, by_epoch=False),
    dict(type='GenotypeExportHook', interval=30, by_epoch=False),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=30))
