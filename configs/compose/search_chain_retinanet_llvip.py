# Cooperative search across the night-time chain on LLVIP (the real-data
# sibling of search_chain_retinanet_night_toy.py): the RUAS scene module
# (scene/edge<e>), TIM's N_F cells' ops (fusion/cell<c>/op<o>) and
# RetinaNet's distillation neck (neck/cell<c>/edge<e>, C3-C5 + 2 extra
# levels, strides 8-128 as the R18 RetinaNet's anchors), searched together
# by the cooperative strategy over three parts (docs/methods/compose.md). The R18
# backbone is held fixed (frozen_modules) as TIM and RUAS do with a
# pre-trained backbone: set a LOCAL ImageNet checkpoint in
# model.architecture.detector.backbone.init_cfg (see
# configs/_base_/models/fusion_retinanet_r18.py), or search it too with
# --cfg-options model.frozen_modules=[].
# Data: data/LLVIP/ (configs/_base_/datasets/llvip_det.py) plus the two
# halves of splits/train.txt, splits/search_weights.txt (weights) and
# splits/search_arch.txt (alpha) -- docs/user_guides/search.md, "Search splits", shows
# how to make them -- converted to annotations/search_{weights,arch}.json as
# in llvip_det.py; splits/test.txt (the evaluation) is never seen.
#   python tools/train.py configs/compose/search_chain_retinanet_llvip.py
#   python tools/train.py configs/compose/retrain_chain_retinanet_llvip.py
# Search crops: 320 x 256 (half the training scale) to fit the supernets.
_base_ = [
    './chain_retinanet_llvip.py', '../_base_/models/chain_search_space.py',
    '../_base_/schedules/tim_task_search_optim.py'
]

fusion_space = dict(_base_.chain_fusion_space, channels=16)
scene_space = dict(type='RUASNet', scene={{_base_.ruas_scene_space}})
neck_channels = 64
# C3-C5 + 2 extra levels, strides 8-128 as the R18 RetinaNet's anchors
neck_space = dict(_base_.tim_neck_space, num_nodes=2)

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
                in_channels=neck_channels,
                feat_channels=neck_channels))),
    strategy=_base_.chain_search_strategy,
    parts=_base_.chain_search_parts,
    space_path='',
    frozen_modules=['detector.backbone'])

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
