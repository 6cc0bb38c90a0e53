# Cooperative search of the LLVIP chain (scene, N_F ops, neck); backbone
# trained from scratch (docs/methods/compose.md)
_base_ = [
    './chain_retinanet_llvip.py', '../_base_/models/chain_search_space.py',
    '../_base_/schedules/tim_task_search_optim.py'
]

fusion_space = dict(_base_.chain_fusion_space, channels=16)
scene_space = dict(type='RUASNet', scene={{_base_.ruas_scene_space}})
neck_channels = 64
neck_space = dict(_base_.tim_neck_space, num_nodes=2)

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
                in_channels=neck_channels,
                feat_channels=neck_channels))),
    strategy=_base_.chain_search_strategy,
    parts=_base_.chain_search_parts,
    space_path='',
    # from scratch, trained; with ImageNet weights in init_cfg set
    # frozen_modules=['detector.backbone']
    frozen_modules=[])

search_scale = (320, 256)
search_pipeline = [
    dict(type='LoadPairedImages', color_type=_base_.color_type),
    dict(type='LoadPairedAnnotations'),
    dict(type='PairedResize', scale=search_scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackFusionDetInputs'),
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        ann_file='annotations/search_weights.json',
        pipeline=search_pipeline))
arch_dataloader = dict(
    _base_.train_dataloader,
    batch_size=2,
    dataset=dict(
        _base_.train_dataloader.dataset,
        ann_file='annotations/search_arch.json',
        pipeline=search_pipeline))
train_cfg = dict(
    _delete_=True,
    type='BilevelIterBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_iters=5000,
    val_interval=5000)
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

optim_wrapper = dict(_base_.tim_task_search_optim_wrapper, _delete_=True)
param_scheduler = dict(_delete_=True, weights=[], arch=[])
custom_hooks = [
    dict(type='ArchLoggingHook', interval=100, by_epoch=False),
    dict(type='GenotypeExportHook', interval=1000, by_epoch=False),
]
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1000))
