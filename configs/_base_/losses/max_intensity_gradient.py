# Loss set `max_intensity_gradient`: max intensity + 2 x max gradient
#   tools/train.py CONFIG --cfg-options model.losses=max_intensity_gradient
# Guide: docs/user_guides/fusion_losses.md
losses = [
    dict(type='MaxIntensityLoss', loss_weight=1.0),
    dict(type='MaxGradientLoss', loss_weight=2.0),
]
