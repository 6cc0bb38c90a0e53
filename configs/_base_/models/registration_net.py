# N_R, the registration module in front of N_F (TIM Sec. 5.1.2): a
# coarse-to-fine displacement predictor with cost volumes
# (PyramidCorrRegNet: learned feature correlation + the parameter-free NGF
# correlation at strides 8, 4, 2; capture range about 24 px) and its
# unsupervised cross-modality losses -- the normalised gradient field
# distance between the registered IR and the VIS luminance (edges must
# coincide, whatever their contrast) + a diffusion regulariser of the field.
# The VoxelMorph-style U-Net (type='DeformableRegNet', channels=16,
# num_levels=3) remains available; it did not learn on IR/VIS pairs in our
# budgets (docs/methods/registration.md). See docs/methods/registration.md.
registration_net = dict(
    type='PyramidCorrRegNet', channels=16, num_levels=3, radius=3)
registration_losses = [
    dict(type='NGFLoss', eps=0.01, loss_weight=1.0),
    dict(type='FlowSmoothnessLoss', penalty='l2', loss_weight=1.0),
]
