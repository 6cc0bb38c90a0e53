# RUAS cooperative search (TPAMI 2022 Alg. 1, Eq. 6-8; Sec. 7.1) of the
# scene module and the SSD300 task cell on ExDark: scene alpha_s (keys
# scene/edge<e>, shared by the 3 stages) and task alpha_t (neck/extra<i>,
# det/cls<i>, det/reg<i>: 16 positions, Table 1's high-level ops) updated
# alternately with one-step finite-difference (DARTS second order)
# hypergradients, the scene update with the beta-weighted gradient of the
# task validation loss; scene weights train on l_s, the detector on l_t. The
# paper keeps the backbone fixed during the search: set a LOCAL pre-trained
# checkpoint (model.architecture.detector.backbone.init_cfg) for that.
#   python tools/train.py configs/ruas/search_ssd300_exdark.py
#   -> work_dirs/search_ssd300_exdark/genotypes/latest.yaml
#   python tools/train.py configs/ruas/retrain_ssd300_exdark.py
# Toy version (sized for a CPU): search_ssd_exdark_toy.py.
# Strategy: the cooperative DARTS of RUAS. Evidence against random
# genotypes of this space on the toy data: benchmarks/bench_search_vs_random.py
# --quick --spaces ruas_det (docs/user_guides/search_controls.md).
_base_ = ['./ssd300_exdark.py']

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
        scene_strategy=dict(
            type='DartsSecondOrderStrategy', use_optimizer_state=True),
        task_strategy=dict(
            type='DartsSecondOrderStrategy', use_optimizer_state=True),
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

# paper: batch 1; the search split of the training images is split again
# into a weight half (train_search.txt) and an alpha half (val_search.txt)
train_dataloader = dict(
    batch_size=1,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(ann_file='splits/train_search.txt'))
arch_dataloader = dict(
    _base_.train_dataloader,
    batch_size=1,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        _base_.train_dataloader.dataset, ann_file='splits/val_search.txt'))
train_cfg = dict(
    _delete_=True,
    type='BilevelEpochBasedTrainLoop',
    arch_dataloader=arch_dataloader,
    max_epochs=30,
    val_interval=30)
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
        optimizer=dict(
            type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4),
        clip_grad=dict(max_norm=5.0)),
    # paper Sec. 7.1: initial learning rate 3e-4, "momentum" (Adam betas)
    # (0.5, 0.999), weight decay 5e-4
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
