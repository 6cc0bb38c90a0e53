# TIM implicit architecture search (IAS) of the fusion network N_F
# (Liu et al., TPAMI 2024, Sec. 3.2 and 4.1, Alg. 1 lines 1-5):
# two cell positions, each choosing among the successive / multi-scale /
# decomposition cells, every edge choosing among the TIM operators
# (configs/_base_/models/tim_search_space.py); C = 48, 64x64 patches;
# IAS hypergradient (Eq. 4) after T = 20 inner weight steps; weights SGD
# 1e-3 with cosine annealing, 100 epochs; IVIF and MIF data alternating
# per epoch, each split in half between the weights and α.
#
# Data (one stem per line in the split files, see docs/user_guides/search.md):
#   data/ivif/{ir,vi}/...      splits/search_weights.txt, search_arch.txt
#   data/MRI_CT/{MRI,CT}/...   splits/search_weights.txt, search_arch.txt
#   python tools/train.py configs/tim/search_fusion_ivif.py
#   -> work_dirs/search_fusion_ivif/genotypes/latest.yaml
#
# Staged as in the paper (ArchScheduleHook below): cell α for 20 epochs,
# then operator α for 80. The fusion losses are the unsupervised
# max-intensity + max-gradient stand-ins of the TIM model configs. The
# latency-aware variant TIM_w/L (λ·Reg(α), Reg the expected latency of the
# derived network) is search_fusion_ivif_wl.py.
# Strategy: IAS (TIM Eq. 4) as in the paper, the strategy the toy
# search-vs-random control supports (docs/user_guides/search_controls.md).
# Caveat: TIM's search optimises the same
# fusion loss at both levels, which makes Eq. 4 nearly the difference of
# two mini-batch gradients (docs/user_guides/search_strategies.md).
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
        fusion_net=_base_.tim_search_space,
        losses=[
            dict(type='MaxIntensityLoss', loss_weight=1.0),
            dict(type='MaxGradientLoss', loss_weight=2.0),
        ]),
    space_path='fusion_net',
    strategy=dict(type='IASStrategy'),  # variant='paper' (default)
    arch_update_interval=20,  # T
    regularizer=None)

dataset_type = 'PairedImageDataset'
search_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(64, 64)),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PackFusionInputs'),
]
ivif = dict(
    type=dataset_type,
    data_root='data/ivif/',
    data_prefix=dict(ir='ir', vi='vi'),
    pipeline=search_pipeline)
mif = dict(
    type=dataset_type,
    data_root='data/MRI_CT/',
    data_prefix=dict(mri='MRI', ct='CT'),
    pipeline=search_pipeline)
weights_split = 'splits/search_weights.txt'
arch_split = 'splits/search_arch.txt'
batch_size = 4
# workers are re-created (and re-seeded) every epoch: persistent workers
# would carry their random state across epochs, and a resumed search would
# then draw other crops than an uninterrupted one
num_workers = 2

# one (weights, α) loader pair per task: epoch e uses pair e % 2, so even
# epochs search on IVIF and odd epochs on MIF
train_dataloader = [
    dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(ivif, ann_file=weights_split)),
    dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(mif, ann_file=weights_split)),
]
train_cfg = dict(
    max_epochs=100,
    arch_dataloader=[
        dict(
            batch_size=batch_size,
            num_workers=num_workers,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(ivif, ann_file=arch_split)),
        dict(
            batch_size=batch_size,
            num_workers=num_workers,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(mif, ann_file=arch_split)),
    ])

default_hooks = dict(
    logger=dict(interval=10),
    # a checkpoint (with α and its Adam state) after every epoch
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=3))
# softmax(α) to the log and vis_data/scalars.json (arch/<key>/<candidate>)
# and the derived genotype to <work_dir>/genotypes/{epoch_<N>,latest}.yaml
# after every epoch
# TIM's staged search (Sec. 4.1): the cell-level α (which cell at each
# position, keys cell0 / cell1: nesting level 0) for the first 20 epochs,
# then the operation-level α (the edges inside the cells, level 1) for 80
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        stages=[
            dict(begin=0, end=20, levels=[0]),
            dict(begin=20, end=100, levels=[1]),
        ]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
