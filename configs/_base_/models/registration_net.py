# N_R (TIM Sec. 5.1.2): PyramidCorrRegNet and its unsupervised losses
# Guide: docs/methods/registration.md
registration_net = dict(
    type='PyramidCorrRegNet', channels=16, num_levels=3, radius=3)
registration_losses = [
    dict(type='NGFLoss', eps=0.01, loss_weight=1.0),
    dict(type='FlowSmoothnessLoss', penalty='l2', loss_weight=1.0),
]
