# Toy sibling of search_ssd300_exdark.py (first order, for speed)
# Guide: docs/methods/ruas_search_tasks.md
_base_ = ['./ssd_exdark_toy.py']

scene_space = dict(type='RUASNet', scene={{_base_.ruas_scene_space}})
model = dict(
    _delete_=True,
    type='CooperativeSearchAlgorithm',
    architecture=dict(
        _base_.model,
        scene_net=scene_space,
        scene_loss_weight=1.0,
        detector=dict(
            _base_.model.detector,
            neck=dict(
                _base_.model.detector.neck,
                ops=None,
                op_cfg=dict(
                    type='DiffMixedOp',
                    key='neck',
                    candidates=_base_.ruas_task_ops)),
            bbox_head=dict(
                _base_.model.detector.bbox_head,
                ops=None,
                op_cfg=dict(
                    type='DiffMixedOp',
                    key='det',
                    candidates=_base_.ruas_task_ops)))),
    strategy=dict(
        type='CooperativeStrategy',
        mode='cooperative',  # 'independent' / 'global': Table 4 baselines
        beta=1.0,
        scene_strategy=dict(type='DartsFirstOrderStrategy'),
        task_strategy=dict(type='DartsFirstOrderStrategy'),
        coupling_strategy=dict(type='DartsFirstOrderStrategy')),
    scene_path='scene_net',
    task_path='detector',
    scene_losses=['scene.*'],
    task_losses=['loss_cls', 'loss_bbox'],
    space_path='',
    # the toy backbone has no pre-trained weights; frozen, it gives no signal
    frozen_modules=[],
    task_update_interval=1)

train_dataloader = dict(dataset=dict(ann_file='splits/search_weights.txt'))
arch_dataloader = dict(
    _base_.train_dataloader,
    dataset=dict(
        _base_.train_dataloader.dataset, ann_file='splits/search_arch.txt'))
train_cfg = dict(
    _delete_=True,
    type='BilevelIterBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_iters=60,
    val_interval=60)
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
            type='Adam', lr=3e-3, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(_delete_=True, weights=[], arch=[])
custom_hooks = [
    dict(type='ArchLoggingHook', interval=10, by_epoch=False),
    dict(type='GenotypeExportHook', interval=30, by_epoch=False),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=30))
