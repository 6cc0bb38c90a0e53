# Control for retinanet_ivif_msrs_c8.py: the same compound model with N_F
# frozen at the fusion-only checkpoint and no fusion loss, so the detector
# differs from the two-step twin's only in how its input is made (fused
# on the fly from the resized sources, not read from fused files)
# Guide: docs/methods/tim_task_real.md
_base_ = ['./retinanet_ivif_msrs_c8.py']

model = dict(freeze_fusion=True, fusion_loss_weight=0.0)
