# The 8 loss terms of HBL's loss space, in the official order; feature
# networks load from local files (docs/methods/hbl.md)
pretrained_root = 'data/pretrained/'
vgg19_weights = pretrained_root + 'vgg19-dcbb9e9d.pth'
alexnet_weights = pretrained_root + 'alexnet-owt-7be5be79.pth'
lpips_lin_weights = pretrained_root + 'lpips_alex_v0.1.pth'

# loss search (official model_search_loss.py): 10 * (1 - SSIM)
hbl_vgg_groups = [[0, 1, 2, 3], [5, 6, 7, 8],
                  [10, 11, 12, 13, 14, 15, 16, 17],
                  [19, 20, 21, 22, 23, 24, 25, 26]]
hbl_search_losses = [
    dict(type='PixelL1Loss'),
    dict(type='PixelMSELoss'),
    dict(type='ColorAngleLoss'),
    dict(type='SSIMDistanceLoss', loss_weight=10.0),
    dict(type='VGGLayerMixtureLoss', weights=vgg19_weights,
         groups=hbl_vgg_groups),
    dict(type='LPIPSLoss', backbone_weights=alexnet_weights,
         lin_weights=lpips_lin_weights),
    dict(type='TotalVariationLoss'),
    dict(type='LaplacianLoss'),
]
# architecture search and training: 1 - SSIM, fixed VGG taps
hbl_train_losses = [
    dict(type='PixelL1Loss'),
    dict(type='PixelMSELoss'),
    dict(type='ColorAngleLoss'),
    dict(type='SSIMDistanceLoss'),
    dict(type='VGGLayerMixtureLoss', weights=vgg19_weights,
         groups=[[1, 6, 11, 22]]),
    dict(type='LPIPSLoss', backbone_weights=alexnet_weights,
         lin_weights=lpips_lin_weights),
    dict(type='TotalVariationLoss'),
    dict(type='LaplacianLoss'),
]

_vgg_toy = dict(random_init=True, widths=(4, 4, 8, 8))
_alex_toy = dict(random_init=True, widths=(4, 4, 8, 8, 8))
hbl_search_losses_toy = [
    dict(type='PixelL1Loss'),
    dict(type='PixelMSELoss'),
    dict(type='ColorAngleLoss'),
    dict(type='SSIMDistanceLoss', loss_weight=10.0),
    dict(type='VGGLayerMixtureLoss', groups=hbl_vgg_groups, **_vgg_toy),
    dict(type='LPIPSLoss', **_alex_toy),
    dict(type='TotalVariationLoss'),
    dict(type='LaplacianLoss'),
]
hbl_train_losses_toy = [
    dict(type='PixelL1Loss'),
    dict(type='PixelMSELoss'),
    dict(type='ColorAngleLoss'),
    dict(type='SSIMDistanceLoss'),
    dict(type='VGGLayerMixtureLoss', groups=[[1, 6, 11, 22]], **_vgg_toy),
    dict(type='LPIPSLoss', **_alex_toy),
    dict(type='TotalVariationLoss'),
    dict(type='LaplacianLoss'),
]
