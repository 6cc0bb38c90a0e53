# TIM implicit architecture search (IAS) of the fusion network N_F on the
# embedded toy IR/VIS data: a small, fast version of search_fusion_ivif.py
# (C = 8, 32x32 patches, 4 epochs, T = 5 inner weight steps per α step, α
# learning rate 3e-3), sized for a CPU (OMP_NUM_THREADS=1).
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/search_fusion_ivif_toy.py
#   -> work_dirs/search_fusion_ivif_toy/genotypes/latest.yaml
#   python tools/train.py configs/tim/retrain_fusion_ivif_toy.py
#
# Strategy: IAS (TIM Eq. 4), the strategy whose genotypes beat random ones
# of this space in the search-vs-random control
# (benchmarks/bench_search_vs_random.py --quick; results and their
# strength: docs/user_guides/search_controls.md).
# Data halves: the toy training pairs are split in two
# (`splits/search_weights.txt` update the weights θ, `splits/search_arch.txt`
# update α); `splits/val.txt` stays held out for the evaluation of the
# retrained genotype (retrain_fusion_ivif_toy.py), so α never sees it.
# Alternating tasks: the real search alternates IVIF and MIF (MRI/CT) data
# per epoch. There is no toy medical data, so here the SECOND "task" is the
# same toy IR/VIS pairs with the sources stacked in the other order
# (vi, ir): epochs 0, 2 see (ir, vi) stacks and epochs 1, 3 see (vi, ir)
# stacks, a stand-in with different per-channel statistics that keeps the
# alternation of the real config. Use a single loader pair (no lists) to
# search on one task.
_base_ = [
    '../_base_/models/tim_search_space.py',
    '../_base_/schedules/schedule_search_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='BilevelSearchAlgorithm',
    architecture=dict(
        type='ImageFusor',
        # the multi-scale cell needs H, W multiples of 4
        data_preprocessor=dict(
            type='FusionDataPreprocessor', pad_size_divisor=4),
        fusion_net=dict(_base_.tim_search_space, channels=8),
        losses=[
            dict(type='MaxIntensityLoss', loss_weight=1.0),
            dict(type='MaxGradientLoss', loss_weight=2.0),
        ]),
    space_path='fusion_net',
    strategy=dict(type='IASStrategy'),  # variant='paper' (default)
    arch_update_interval=5,
    regularizer=None)

dataset_type = 'PairedImageDataset'
data_root = 'data/toy/'
ivif_order = dict(ir='ir', vi='vi')  # task 0: (ir, vi) stacks
swapped_order = dict(vi='vi', ir='ir')  # task 1: (vi, ir) stacks
search_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(32, 32)),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PackFusionInputs'),
]
weights_split = 'splits/search_weights.txt'
arch_split = 'splits/search_arch.txt'
batch_size = 4

# one (weights, arch) loader pair per task; epoch e uses pair e % 2
train_dataloader = [
    dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            data_prefix=ivif_order,
            ann_file=weights_split,
            pipeline=search_pipeline)),
    dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            data_prefix=swapped_order,
            ann_file=weights_split,
            pipeline=search_pipeline)),
]
train_cfg = dict(
    max_epochs=4,
    arch_dataloader=[
        dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(
                type=dataset_type,
                data_root=data_root,
                data_prefix=ivif_order,
                ann_file=arch_split,
                pipeline=search_pipeline)),
        dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(
                type=dataset_type,
                data_root=data_root,
                data_prefix=swapped_order,
                ann_file=arch_split,
                pipeline=search_pipeline)),
    ])
# weights: SGD 1e-3 annealed over the 4 epochs (from the base schedule);
# α: Adam at 10x the real search's learning rate, so that α moves visibly in
# the 45 α steps of this short search
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-3)))

default_hooks = dict(
    logger=dict(interval=10),
    # a checkpoint (with α and its Adam state) after every epoch
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=2))
# softmax(α) to the log and vis_data/scalars.json (arch/<key>/<candidate>)
# and the derived genotype to <work_dir>/genotypes/{epoch_<N>,latest}.yaml
# after every epoch
# TIM's staged search scaled to the 4 epochs (paper: 20 + 80 of 100):
# cell-level α (cell0, cell1) in epoch 0, the operation-level α after
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        stages=[
            dict(begin=0, end=1, levels=[0]),
            dict(begin=1, end=None, levels=[1]),
        ]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
