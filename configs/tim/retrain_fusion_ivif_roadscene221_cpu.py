# Retrain a fusion network N_F of TIM's search space (a genotype file) from
# scratch on REAL infrared-visible pairs (RoadScene221 train split), sized for
# 2 CPU cores (one torch thread): the retraining of the search-vs-random
# control on real data (benchmarks/bench_search_vs_random.py --spaces
# tim_fusion_roadscene221, docs/user_guides/search_controls.md), which scores
# every retrained genotype by its loss on the held-out RoadScene-50 test pairs.
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/tim/search_fusion_ivif_roadscene221_cpu.py
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/tim/retrain_fusion_ivif_roadscene221_cpu.py
# Another genotype (e.g. of an earlier epoch, or a random one):
#   ... --cfg-options model.fusion_net.genotype=PATH/epoch_4.yaml
# (keys besides `genotype` / `space` override the stored network config, e.g.
# model.fusion_net.channels=48).
# Data: the RoadScene221 training split (171 pairs, none within the
# near-duplicate threshold of a RoadScene-50 or TNO test image;
# ../_base_/datasets/roadscene221_fusion.py), the union of the search's two
# halves. The test split is not read during training (no validation, no
# checkpoint selection); `test_dataloader` (RoadScene-50, whole images, padded
# to a multiple of 4 by the data preprocessor and cropped back) is what the
# control scores on.
# Losses: the search's (TIM Sec. 4.2; ../_base_/models/tim_fusion_losses.py):
# l_F with U2Fusion's weight-free gradient measure + l_T.
# Paper (TIM, Liu et al., TPAMI 2023; github.com/LiuZhu-CV/TIM): the derived
# N_F at C = 48 trained with Adam 1e-4 for 100 epochs of 64x64 patches on a
# GPU.
# Here: C = 16 (the search's width), batch 4 64x64 crops, Adam 1e-3 cosine
# to 1e-5 over 300 iterations, one torch thread; the control also scores
# the loss on the 50 whole RoadScene test images
# (docs/methods/tim_real_search.md).
_base_ = [
    '../_base_/models/tim_fusion_losses.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/default_runtime.py',
]
channels = 16
max_iters = 300

model = dict(
    type='ImageFusor',
    # the multi-scale cell needs H, W multiples of 4 (predictions are
    # cropped back to the image size)
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=dict(
        type='GenotypeNet',
        genotype='work_dirs/search_fusion_ivif_roadscene221_cpu/genotypes/'
        'latest.yaml',
        channels=channels),
    losses=_base_.tim_fusion_losses)

train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, T_max=max_iters,
         eta_min=1e-5)
]
# val_begin after the last step: the test split is never read in training
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters,
    val_begin=max_iters + 1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
