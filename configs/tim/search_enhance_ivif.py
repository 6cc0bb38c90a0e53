# TIM stage 2: implicit architecture search (IAS) of the enhancement network
# N_T on top of the searched N_F, for infrared-visible fusion (Sec. 4.2,
# Table 1). The supernet is the two-stage model
#   stage 1 = the searched N_F (fusion_M), loaded from a trained stage-1 run
#             (stage1_init) and held fixed (frozen_modules);
#   stage 2 = N_T's search space, configs/_base_/models/tim_two_stage_search.py
#             (two branches x two successive cells, 7 operators per edge).
# Losses (each names the output it reads, docs/user_guides/fusion_losses.md):
#   l_int on the target-extraction branch (IR), l_ssim on the
#   detail-enhancement branch (VIS), l_T (saliency-weighted) on the final
#   image. The same loss drives the weights (search_weights half) and alpha
#   (search_arch half), as in TIM.
# Schedule (Sec. 4.2): SGD lr 1e-3, cosine annealing, 100 epochs; alpha Adam
# 3e-4; IAS with T = 20 weight steps per alpha step.
# Data: the hybrid TNO + RoadScene set of the paper in one folder,
#   data/ivif/{ir,vi}/<stem>.<ext>, split in two halves
#   splits/search_weights.txt / splits/search_arch.txt (docs/user_guides/search.md);
#   the TNO / RoadScene / M3FD configs that train the derived model
#   (train_two_stage_ivif_*.py) read their own folders.
#   python tools/train.py configs/tim/fusion_ivif_tno.py      # N_F
#   python tools/train.py configs/tim/search_enhance_ivif.py  # N_T search
#   -> work_dirs/search_enhance_ivif/genotypes/latest.yaml
#   python tools/train.py configs/tim/train_two_stage_ivif_tno.py
# Without a trained N_F:
#   --cfg-options model.architecture.fusion_net.stage1_init=None
# (stage 1 then stays at its random initialisation: only for smoke runs).
_base_ = [
    '../_base_/models/tim_two_stage_search.py',
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/schedules/schedule_search_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='BilevelSearchAlgorithm',
    architecture=dict(
        type='ImageFusor',
        # the multi-scale cell of N_F needs H, W multiples of 4
        data_preprocessor=dict(
            type='FusionDataPreprocessor', pad_size_divisor=4),
        fusion_net=dict(
            type='TIMTwoStageFusionNet',
            stage1=_base_.tim_nf,
            stage1_init='work_dirs/fusion_ivif_tno/iter_10000.pth',
            stage2=_base_.tim_nt_space_ivif,
            branch_names=_base_.tim_branch_names),
        losses=_base_.ivif_branch_losses + [_base_.tim_saliency_loss]),
    space_path='fusion_net.stage2',
    frozen_modules=['fusion_net.stage1'],
    strategy=dict(type='IASStrategy'),
    arch_update_interval=20,  # T
    regularizer=None)

dataset_type = 'PairedImageDataset'
data_root = 'data/ivif/'
modalities = dict(ir='ir', vi='vi')
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
weights_split = 'splits/search_weights.txt'
arch_split = 'splits/search_arch.txt'
batch_size = 4
num_workers = 2

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=modalities,
        ann_file=weights_split,
        pipeline=search_pipeline))
train_cfg = dict(
    max_epochs=100,
    arch_dataloader=dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            data_prefix=modalities,
            ann_file=arch_split,
            pipeline=search_pipeline)))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, by_epoch=True, max_keep_ckpts=3))
# softmax(alpha) to the log and the derived N_T genotype to
# <work_dir>/genotypes/{epoch_<N>,latest}.yaml after every epoch
custom_hooks = [
    dict(type='ArchLoggingHook', interval=1),
    dict(type='GenotypeExportHook', interval=1),
]
