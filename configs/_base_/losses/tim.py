# Loss set `tim` (docs/user_guides/fusion_losses.md, "Swapping the losses"):
# TIM's l_F (InfoPreservationLoss, with U2Fusion's weight-free gradient
# measure) + l_T (SaliencyWeightedLoss, mu = 1), Sec. 4.2; the
# `tim_fusion_losses` of configs/_base_/models/tim_fusion_losses.py, used by
# the TIM fusion configs.
#   python tools/train.py CONFIG --cfg-options model.losses=tim
losses = [
    dict(type='InfoPreservationLoss', measure='gradient', loss_weight=1.0),
    dict(type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0),
]
