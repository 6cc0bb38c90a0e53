# Loss set `content`: max intensity + 10 x max gradient (SeAFusion, CDDFuse)
#   python tools/train.py CONFIG --cfg-options model.losses=content
# Guide: docs/user_guides/fusion_losses.md
losses = [
    dict(type='MaxIntensityLoss', loss_weight=1.0),
    dict(type='MaxGradientLoss', loss_weight=10.0),
]
