# RUAS cooperative search (TPAMI 2022 Alg. 1, Eq. 6-8) of the scene module
# and the SSD task cell on darkened toy scenes (toy sibling of
# search_ssd300_exdark.py): scene alpha_s (keys scene/edge<e>, shared by the
# 3 stages) and task alpha_t (neck/extra<i>, det/cls<i>, det/reg<i>, Table
# 1's high-level ops) updated alternately with one-step finite-difference
# hypergradients (first order here, for speed), the scene update with the
# beta-weighted gradient of the task validation loss. Scene weights train on
# l_s, the detector on l_t.
#   python tools/misc/make_toy_lowlight_tasks.py data/toy_exdark --task exdark
#   python tools/train.py configs/ruas/search_ssd_exdark_toy.py
#   -> work_dirs/search_ssd_exdark_toy/genotypes/latest.yaml
#   python tools/train.py configs/ruas/retrain_ssd_exdark_toy.py
# Strategy: the cooperative DARTS of RUAS. Evidence against random
# genotypes of this space on the toy data: benchmarks/bench_search_vs_random.py
# --quick --spaces ruas_det (docs/user_guides/search_controls.md).
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
    # one genotype of the whole model; each part is rebuilt with
    # GenotypeNet(part=...) in the retrain config
    space_path='',
    # RUAS fixes the pre-trained backbone during the search; search it
    # too with --cfg-options model.frozen_modules=[]
    frozen_modules=['detector.backbone'],
    task_update_interval=1)

# weights on one half of the toy train images, alpha on the other; the
# val split (retrain_ssd_exdark_toy.py's evaluation) stays unseen
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
            type='Adam', lr=3e-3, betas=(0.5, 0.999), weight_decay=1e-3)))
param_scheduler = dict(_delete_=True, weights=[], arch=[])
custom_hooks = [
    dict(type='ArchLoggingHook', interval=10, by_epoch=False),
    dict(type='GenotypeExportHook', interval=30, by_epoch=False),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=30))
