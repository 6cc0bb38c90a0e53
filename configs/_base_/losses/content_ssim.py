# Loss set `content_ssim` (docs/user_guides/fusion_losses.md, "Swapping the
# losses"): the content loss (`content`: max-intensity + 10 x max-gradient)
# plus a structural term, 1 - SSIM to each source averaged over the sources
# (Gaussian window 11, sigma 1.5): the content loss rewards the brightest
# pixel and the strongest edge, the SSIM term the structure of both images
# (the metrics on which TIM's losses rank well: SSIM, CC, PSNR).
#   python tools/train.py CONFIG --cfg-options model.losses=content_ssim
losses = [
    dict(type='MaxIntensityLoss', loss_weight=1.0),
    dict(type='MaxGradientLoss', loss_weight=10.0),
    dict(type='SSIMLoss', loss_weight=1.0),
]
