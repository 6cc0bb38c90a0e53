# N_R (TIM Sec. 5.1.2): PyramidCorrRegNet and its unsupervised losses
# Guide: docs/methods/registration.md
# (one network for ImageRegistrator and a chain's stage, so that a trained
# N_R initialises the stage: model.stages.0.init=<checkpoint>)
registration_net = dict(
    type='PyramidCorrRegNet', channels=16, num_levels=3, radius=3,
    inputs='orientation', flow_bound=64.0)
registration_losses = [
    dict(type='NGFLoss', eps=0.01, loss_weight=1.0),
    dict(type='FlowSmoothnessLoss', penalty='l2', loss_weight=1.0),
]
