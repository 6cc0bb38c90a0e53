# Loss set `tim_vgg`: TIM's losses with the VGG16 measure (local weights file)
#   python tools/train.py CONFIG --cfg-options model.losses=tim_vgg
# Guide: docs/user_guides/fusion_losses.md
losses = [
    dict(
        type='InfoPreservationLoss',
        measure='vgg',
        feature_weights='checkpoints/vgg16-397923af.pth',
        loss_weight=1.0),
    dict(type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0),
]
