# TIM implicit architecture search (IAS) of the fusion network N_F on REAL
# infrared-visible pairs (RoadScene221), sized for 2 CPU cores (one torch
# thread per search): the search of the search-vs-random control on real data
# (benchmarks/bench_search_vs_random.py --spaces tim_fusion_roadscene221,
# docs/user_guides/search_controls.md).
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/tim/search_fusion_ivif_roadscene221_cpu.py
#   -> work_dirs/search_fusion_ivif_roadscene221_cpu/genotypes/latest.yaml
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/tim/retrain_fusion_ivif_roadscene221_cpu.py
# Space: TIM's two-level fusion space (../_base_/models/tim_search_space.py,
# as search_fusion_ivif_toy.py): two cell positions, each choosing among the
# successive / multi-scale / decomposition cells, every edge among the 7 TIM
# operators; default strategy IAS (TIM Eq. 4, variant 'paper').
# Data: the RoadScene221 training split's halves
# (../_base_/datasets/roadscene221_fusion.py): `search_weights` (86 pairs)
# updates the weights θ, `search_arch` (85 pairs) updates α. The RoadScene-50
# test pairs are never read (no validation).
# One task: the paper alternates IVIF and medical (MRI/CT) data per epoch
# (search_fusion_ivif.py); this real-data config searches IVIF only.
# Losses: TIM's fusion losses (Sec. 4.2;
# ../_base_/models/tim_fusion_losses.py):
# l_F with U2Fusion's weight-free gradient measure + l_T (saliency-weighted
# intensity + SSIM), at both levels, as retrain_fusion_ivif_roadscene221_cpu.py
# trains the derived genotype.
# Paper (TIM, Liu et al., TPAMI 2023; github.com/LiuZhu-CV/TIM): C = 48,
# 64x64 patches, 100 epochs (20 cell-level + 80 operation-level), T = 20
# inner weight steps per α step, weights SGD 1e-3 cosine, α Adam 3e-4, on a
# GPU.
# Here: C = 16, 64x64 crops, batch 4, 6 epochs of the 86-pair weight half
# (22 iterations each: 132 weight steps, 26 α steps with T = 5), staged as
# the paper scaled to 6 epochs (cell-level α in epochs 0-1, operation-level
# α in epochs 2-5), α Adam 3e-3 (10x the paper's, as the toy search, so that
# α moves in 26 steps), one torch thread (docs/methods/tim_real_search.md).
_base_ = [
    '../_base_/models/tim_search_space.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/schedules/schedule_search_100e.py',
    '../_base_/default_runtime.py',
]

channels = 16
crop_size = (64, 64)
batch_size = 4
max_epochs = 6
cell_epochs = 2  # cell-level α first (paper: 20 of 100 epochs)

model = dict(
    type='BilevelSearchAlgorithm',
    architecture=dict(
        type='ImageFusor',
        # the multi-scale cell needs H, W multiples of 4
        data_preprocessor=dict(
            type='FusionDataPreprocessor', pad_size_divisor=4),
        fusion_net=dict(_base_.tim_search_space, channels=channels),
        losses=_base_.tim_fusion_losses),
    space_path='fusion_net',
    strategy=dict(type='IASStrategy'),  # variant='paper' (default)
    arch_update_interval=5,  # T
    regularizer=None)

search_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=crop_size),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(type='PackFusionInputs'),
]

# one task: a single (weights, α) loader pair, no lists
train_dataloader = dict(
    _delete_=True,
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        _base_.search_weights_dataset, pipeline=search_pipeline))
train_cfg = dict(
    max_epochs=max_epochs,
    arch_dataloader=dict(
        batch_size=batch_size,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            _base_.search_arch_dataset, pipeline=search_pipeline)))
# no validation: the test split is never read during the search
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

# α: Adam at 10x the paper's learning rate (26 α steps)
optim_wrapper = dict(arch=dict(optimizer=dict(lr=3e-3)))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=1))
# softmax(α) to the log and the derived genotype to
# <work_dir>/genotypes/{epoch_<N>,latest}.yaml after every epoch; TIM's staged
# search scaled to the epochs above (paper: 20 + 80 of 100)
custom_hooks = [
    dict(
        type='ArchScheduleHook',
        stages=[
            dict(begin=0, end=cell_epochs, levels=[0]),
            dict(begin=cell_epochs, end=None, levels=[1]),
        ]),
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
