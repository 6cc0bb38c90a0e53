# Loss set `max_intensity_gradient` (docs/user_guides/fusion_losses.md,
# "Swapping the losses"): SeAFusion-style unsupervised content losses, the
# L1 distance of the fused image to the pixelwise maximum of the sources
# (loss_int) and of its Sobel gradient to the largest source gradient
# (loss_grad, weight 2). The losses of configs/_base_/models/simple_fusion.py
# and tim_ivif.py. Pick it for any model's loss list:
#   python tools/train.py CONFIG \
#       --cfg-options model.losses=max_intensity_gradient
losses = [
    dict(type='MaxIntensityLoss', loss_weight=1.0),
    dict(type='MaxGradientLoss', loss_weight=2.0),
]
