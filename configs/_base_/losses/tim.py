# Loss set `tim`: TIM's l_F (gradient measure) + l_T (Sec. 4.2)
#   python tools/train.py CONFIG --cfg-options model.losses=tim
# Guide: docs/user_guides/fusion_losses.md
losses = [
    dict(type='InfoPreservationLoss', measure='gradient', loss_weight=1.0),
    dict(type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0),
]
