# Task-guided search of RetinaNet's neck (TIM Sec. 4.3.1) on M3FD with N_F
# plugged in: the FusionDetector of retinanet_ivif.py whose FPN is replaced
# by the searchable distillation neck -- 4-node feature distillation cells
# fusing ResNet-18 C3-C5 top-down then bottom-up (4 cells), every edge
# choosing among TIM's 11 task operators (40 architecture keys
# neck/cell<c>/edge<e>). The backbone is held fixed (frozen_modules). Strategy:
# TIM's implicit architecture search (IAS, T = 20 weight steps per alpha
# step); DARTS first order with
#   --cfg-options model.strategy.type=DartsFirstOrderStrategy \
#                 model.arch_update_interval=1
# Weights (N_F, backbone, neck, head) on l_T + eta * l_F of
# splits/search_weights.txt, alpha on the same loss over
# splits/search_arch.txt: the two halves of splits/train.txt (make them as in
# docs/user_guides/search.md), converted to annotations/search_{weights,
# arch}.json as in ../_base_/datasets/m3fd_det.py; splits/val.txt, on which
# retrain_retinanet_ivif.py evaluates, stays unseen by the search. The supernet runs at 64
# channels; retrain_retinanet_ivif.py rebuilds the derived neck at 256.
#   python tools/train.py configs/tim/search_retinanet_ivif.py
#   python tools/train.py configs/tim/retrain_retinanet_ivif.py
# The real-data headline retinanet_ivif.py holds a genotype of this space,
# searched on the toy data with the toy recipe (DARTS first order + the
# cheap-op cap: search_retinanet_ivif_real_space_toy.py) because M3FD is not
# on the development machine; on M3FD, re-derive it here and point
# retinanet_ivif.py's neck.genotype at
# work_dirs/search_retinanet_ivif/genotypes/latest.yaml.
# Strategy: TIM's IAS. The recipe whose necks pass the toy neck control
# against random necks (weakly; docs/methods/tim_neck_search.md) is DARTS first
# order + the cheap-op cap of search_retinanet_ivif_toy.py, the one the
# headline's genotype came from (search_retinanet_ivif_real_space_toy.py
# shows its keys: strategy, arch_update_interval=1, regularizer).
_base_ = [
    './retrain_retinanet_ivif.py',
    '../_base_/models/tim_neck_search_space.py',
    '../_base_/schedules/tim_task_search_optim.py'
]

neck_space = _base_.tim_neck_space

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
                in_channels=64,
                feat_channels=64))),
    space_path='detector.neck',
    strategy=dict(type='IASStrategy'),  # variant='paper' (default)
    # TIM fixes the pre-trained backbone during the task-module search;
    # search it too with --cfg-options model.frozen_modules=[]
    frozen_modules=['detector.backbone'],
    arch_update_interval=20)

arch_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        data_prefix=_base_.modalities,
        ann_file='annotations/search_arch.json',
        metainfo=dict(classes=_base_.classes),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=_base_.train_pipeline))
train_dataloader = dict(
    dataset=dict(ann_file='annotations/search_weights.json'))
train_cfg = dict(
    _delete_=True,
    type='BilevelIterBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_iters=10000,
    val_interval=10000)
# no validation: the retrain config evaluates the derived neck
val_dataloader = None
val_evaluator = None
val_cfg = None

optim_wrapper = dict(_base_.tim_task_search_optim_wrapper, _delete_=True)
param_scheduler = dict(
    _delete_=True,
    weights=[
        dict(
            type='CosineAnnealingLR',
            by_epoch=False,
            T_max=10000,
            eta_min=1e-6)
    ],
    arch=[])

default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = [
    dict(type='ArchLoggingHook', interval=100, by_epoch=False),
    dict(type='GenotypeExportHook', interval=1000, by_epoch=False),
]
