# Loss set `content_ssim`: `content` + 1 - SSIM to each source
#   python tools/train.py CONFIG --cfg-options model.losses=content_ssim
# Guide: docs/user_guides/fusion_losses.md
losses = [
    dict(type='MaxIntensityLoss', loss_weight=1.0),
    dict(type='MaxGradientLoss', loss_weight=10.0),
    dict(type='SSIMLoss', loss_weight=1.0),
]
