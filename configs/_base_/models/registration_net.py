# N_R, the registration module in front of N_F (TIM Sec. 5.1.2): a U-Net
# displacement predictor (DeformableRegNet) and its unsupervised
# cross-modality losses -- the normalised gradient field distance between
# the registered IR and the VIS luminance (edges must coincide, whatever
# their contrast) + a diffusion regulariser of the field. See
# docs/registration.md for the loss choice.
registration_net = dict(
    type='DeformableRegNet', channels=16, num_levels=3, integration_steps=0)
registration_losses = [
    dict(type='NGFLoss', eps=0.01, loss_weight=1.0),
    dict(type='FlowSmoothnessLoss', penalty='l2', loss_weight=1.0),
]
