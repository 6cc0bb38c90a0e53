# TarDAL's generator trained by the toolbox on real pairs with a content loss
# (no discriminators), sized for 2 CPU cores (one torch thread).
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/baselines/tardal_ivif_roadscene221_cpu.py
#   python tools/fuse.py configs/baselines/tardal_ivif.py \
#       work_dirs/tardal_ivif_roadscene221_cpu/iter_1600.pth \
#       --ir DIR/ir --vi DIR/vi --out OUT
# Network and input / output conventions: ../_base_/models/tardal.py, the
# model of the inference config tardal_ivif.py. BatchNorm trains as PyTorch's
# (bn_mode='standard': batch statistics that update the running ones); in
# eval mode that equals bn_mode='eval', so the checkpoint runs through
# tardal_ivif.py unchanged. Data, schedule: as
# seafusion_ivif_roadscene221_cpu.py. Loss: `content` by default.
# What differs from the released model (TarDAL, github.com/JinyuanLiu-CV/
# TarDAL): trained there on M3FD / TNO with its SSIM + saliency-masked pixel
# loss and two discriminators (target and detail), TarDAL++ with a detector
# in the loop; here the generator alone with a content loss.
_base_ = [
    '../_base_/models/tardal.py',
    '../_base_/losses/content.py',
    '../_base_/datasets/roadscene221_fusion.py',
    '../_base_/schedules/fusion_real_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(fusion_net=dict(bn_mode='standard'), losses=_base_.losses)

train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=_base_.max_iters, max_keep_ckpts=3))
