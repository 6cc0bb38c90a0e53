# Loss set `tim_vgg` (docs/user_guides/fusion_losses.md, "Swapping the
# losses"): TIM's losses as in the paper, l_F with U2Fusion's VGG16 feature
# measure; the `tim_fusion_losses_vgg` of
# configs/_base_/models/tim_fusion_losses.py. Needs torchvision's ImageNet
# VGG16 state dict as a local file (nothing is downloaded; tools/train.py
# checks it before anything is built):
#   python tools/train.py CONFIG --cfg-options model.losses=tim_vgg
#   (another file: ... model.losses.0.feature_weights=PATH)
losses = [
    dict(
        type='InfoPreservationLoss',
        measure='vgg',
        feature_weights='checkpoints/vgg16-397923af.pth',
        loss_weight=1.0),
    dict(type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0),
]
