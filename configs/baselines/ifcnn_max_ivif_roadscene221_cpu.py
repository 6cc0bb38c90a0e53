# IFCNN-MAX's network trained on RoadScene221 (content loss), 2 CPU cores
#   OMP_NUM_THREADS=1 python tools/train.py CONFIG
# Guide: docs/user_guides/fusion_training.md
_base_ = [
    '../_base_/models/ifcnn_max.py',
    '../_base_/losses/content.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/schedules/fusion_real_cpu.py',
    '../_base_/default_runtime.py',
]
# released: a frozen ImageNet conv1 (also in the released IFCNN files); here
# trained (docs/user_guides/fusion_training.md lists the differences)
model = dict(fusion_net=dict(frozen_stem=False), losses=_base_.losses)

train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=_base_.max_iters, max_keep_ckpts=3))
