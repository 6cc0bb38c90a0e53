# SeAFusion's fusion network trained by the toolbox on real pairs with its
# authors' content loss, sized for 2 CPU cores (one torch thread).
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/baselines/seafusion_ivif_roadscene221_cpu.py
#   python tools/fuse.py configs/baselines/seafusion_ivif.py \
#       work_dirs/seafusion_ivif_roadscene221_cpu/iter_1600.pth \
#       --ir DIR/ir --vi DIR/vi --out OUT
# Network and input / output conventions: ../_base_/models/seafusion.py, the
# model of the inference config seafusion_ivif.py (a trained checkpoint runs
# through it, tools/fuse.py, FusionInferencer and bench_fusion_real.py as the
# official weights do). Data: the RoadScene221 training split (171 pairs,
# none within the near-duplicate threshold of a RoadScene-50 or TNO test
# image; ../_base_/datasets/roadscene221_fusion.py); the test split is never
# read in training. Loss: `content` (../_base_/losses/content.py), SeAFusion's
# Fusionloss, loss_in + 10 * loss_grad; other loss sets by
# --cfg-options model.losses=NAME (docs/user_guides/fusion_training.md).
# Schedule: ../_base_/schedules/fusion_real_cpu.py, batch 8 random 64x64
# crops with flips and 90-degree rotations, Adam lr 1e-3 cosine to 1e-5.
# What differs from the released model (SeAFusion, github.com/Linfeng-Tang/
# SeAFusion, train.py): trained there on MSRS (1,083 pairs) with the
# segmentation network in the loop (semantic loss weight growing over four
# rounds of fusion + segmentation training); here on RoadScene221, the
# content loss alone, no segmentation.
_base_ = [
    '../_base_/models/seafusion.py',
    '../_base_/losses/content.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/schedules/fusion_real_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(losses=_base_.losses)

train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=_base_.max_iters, max_keep_ckpts=3))
