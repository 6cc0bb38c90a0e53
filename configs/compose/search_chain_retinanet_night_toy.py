# Cooperative search of the night-time toy chain (scene, N_F ops, neck)
# Guide: docs/methods/compose.md
_base_ = [
    './chain_retinanet_night_toy.py',
    '../_base_/models/chain_search_space.py'
]

fusion_space = _base_.chain_fusion_space
scene_space = dict(type='RUASNet', scene={{_base_.ruas_scene_space}})
neck_channels = 32
neck_space = _base_.tim_neck_space_toy

_stages = _base_.model.stages
model = dict(
    _delete_=True,
    type='CooperativeSearchAlgorithm',
    architecture=dict(
        _base_.model,
        stages=[
            dict(_stages[0], module=scene_space),
            dict(_stages[1], module=fusion_space),
        ],
        detector=dict(
            _base_.model.detector,
            neck=neck_space,
            bbox_head=dict(
                _base_.model.detector.bbox_head,
                in_channels=neck_channels))),
    strategy=_base_.chain_search_strategy,
    parts=_base_.chain_search_parts,
    # one genotype of the whole model; the retrain config rebuilds each part
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
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

# alpha lr 1e-2 and alpha batch 8: the derived argmax gains signal
# with sqrt(alpha steps x alpha batch); lr scales signal and noise
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
