# RUAS cooperative search of the scene module and the DeepLabV3+ ASPP cell
# on ACDC night (Sec. 7.2) (docs/methods/ruas_search_tasks.md)
_base_ = ['./deeplabv3plus_r18_acdc.py']

scene_space = dict(type='RUASNet', scene={{_base_.ruas_scene_space}})
model = dict(
    _delete_=True,
    type='CooperativeSearchAlgorithm',
    architecture=dict(
        _base_.model,
        scene_net=scene_space,
        scene_loss_weight=1.0,
        segmentor=dict(
            _base_.model.segmentor,
            decode_head=dict(
                _base_.model.segmentor.decode_head,
                ops=None,
                op_cfg=dict(
                    type='DiffMixedOp',
                    key='seg',
                    candidates=_base_.ruas_task_ops)))),
    strategy=dict(
        type='CooperativeStrategy',
        mode='cooperative',
        beta=1.0,
        scene_strategy=dict(
            type='DartsSecondOrderStrategy', use_optimizer_state=True),
        task_strategy=dict(
            type='DartsSecondOrderStrategy', use_optimizer_state=True),
        coupling_strategy=dict(type='DartsFirstOrderStrategy')),
    scene_path='scene_net',
    task_path='segmentor',
    scene_losses=['scene.*'],
    task_losses=['decode.loss_*', 'aux.loss_*'],
    space_path='',
    # RUAS fixes its pre-trained backbone; with ImageNet weights in init_cfg
    # set frozen_modules=['segmentor.backbone'] (from scratch: trained)
    frozen_modules=[],
    task_update_interval=1)

# the 400 search images: splits/train_search.txt (weights) and
# splits/val_search.txt (alpha), under rgb_anon/night/train
train_dataloader = dict(
    batch_size=1,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(ann_file='splits/train_search.txt'))
train_cfg = dict(
    _delete_=True,
    type='BilevelEpochBasedTrainLoop',
    arch_dataloader=dict(
        _base_.train_dataloader,
        batch_size=1,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            _base_.train_dataloader.dataset,
            ann_file='splits/val_search.txt')),
    max_epochs=30,
    val_interval=30)
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
        optimizer=dict(
            type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4),
        clip_grad=dict(max_norm=5.0)),
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=3e-4, betas=(0.5, 0.999), weight_decay=5e-4)))
param_scheduler = dict(_delete_=True, weights=[], arch=[])
custom_hooks = [
    dict(type='ArchLoggingHook', interval=1, by_epoch=True),
    dict(type='GenotypeExportHook', interval=1, by_epoch=True),
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=2))
log_processor = dict(by_epoch=True)
