# IFCNN-MAX's network trained by the toolbox on real pairs with an
# unsupervised fusion loss, sized for 2 CPU cores (one torch thread).
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/baselines/ifcnn_max_ivif_roadscene221_cpu.py
#   python tools/fuse.py configs/baselines/ifcnn_max_ivif.py \
#       work_dirs/ifcnn_max_ivif_roadscene221_cpu/iter_1600.pth \
#       --ir DIR/ir --vi DIR/vi --out OUT
# Network and input / output conventions: ../_base_/models/ifcnn_max.py, the
# model of the inference config ifcnn_max_ivif.py; the losses read the fused
# grey image of the inference path (the output de-normalised and reduced to
# grey). Data, schedule: as seafusion_ivif_roadscene221_cpu.py (RoadScene221
# training split, batch 8 64x64 crops, Adam lr 1e-3 cosine). Loss: `content`
# by default (--cfg-options model.losses=NAME for another set).
# What differs from the released model (IFCNN, github.com/uzeful/IFCNN):
# trained there supervised on synthetic multi-focus pairs with ground truth,
# conv1 an ImageNet ResNet-101 conv1 kept frozen; no ImageNet weights are
# available offline, so conv1 is trained here (frozen_stem=False; the
# parameter is the same, the checkpoint loads into the inference config).
_base_ = [
    '../_base_/models/ifcnn_max.py',
    '../_base_/losses/content.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/schedules/fusion_real_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(fusion_net=dict(frozen_stem=False), losses=_base_.losses)

train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=_base_.max_iters, max_keep_ckpts=3))
