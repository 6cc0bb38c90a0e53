# The 8 loss terms of HBL's loss space (mmfusenas/models/losses/
# restoration_losses.py), in the official order L1, L2, colour, SSIM, VGG,
# LPIPS, TV, Laplacian.
# Pretrained feature networks load from local files (nothing is downloaded):
#   data/pretrained/vgg19-dcbb9e9d.pth        torchvision vgg19
#   data/pretrained/alexnet-owt-7be5be79.pth  torchvision alexnet
#   data/pretrained/lpips_alex_v0.1.pth       lpips weights/v0.1/alex.pth
pretrained_root = 'data/pretrained/'
vgg19_weights = pretrained_root + 'vgg19-dcbb9e9d.pth'
alexnet_weights = pretrained_root + 'alexnet-owt-7be5be79.pth'
lpips_lin_weights = pretrained_root + 'lpips_alex_v0.1.pth'

# loss search (official model_search_loss.py): 10 * (1 - SSIM); VGG: softmax
# mixture over 4 groups of VGG19 taps (4 / 4 / 8 / 8 candidates)
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
# architecture search and training (official architect / model.py):
# 1 - SSIM; VGG: unweighted sum at relu1_1, relu2_1, relu3_1, relu4_2
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

# toy runs: random, narrow stand-ins of VGG19 / AlexNet (no files needed;
# the perceptual terms are then not meaningful, the pipeline is)
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
# the official final loss weights (train.py, every dataset) are in
# configs/hbl/train_hbl_official_lol.py
