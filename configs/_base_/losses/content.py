# Loss set `content` (docs/user_guides/fusion_losses.md, "Swapping the
# losses"): the content loss of SeAFusion (Tang et al., Information Fusion
# 2022; its Fusionloss: loss_in + 10 * loss_grad), also CDDFuse's intensity
# and gradient terms: the L1 distance of the fused image to the pixelwise
# maximum of the sources, and of its Sobel magnitude (|Gx| + |Gy|) to the
# largest source gradient, weighted 1 : 10.
#   python tools/train.py CONFIG --cfg-options model.losses=content
losses = [
    dict(type='MaxIntensityLoss', loss_weight=1.0),
    dict(type='MaxGradientLoss', loss_weight=10.0),
]
