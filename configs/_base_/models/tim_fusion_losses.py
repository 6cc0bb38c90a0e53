# TIM's fusion and branch losses (Sec. 4.2); l_F defaults to the gradient
# measure (offline); `_vgg`: the paper's VGG16 measure, a local file
# Guide: docs/user_guides/fusion_losses.md
vgg16_weights = 'checkpoints/vgg16-397923af.pth'
tim_info_loss = dict(
    type='InfoPreservationLoss', measure='gradient', loss_weight=1.0)
tim_info_loss_vgg = dict(
    type='InfoPreservationLoss',
    measure='vgg',
    feature_weights=vgg16_weights,
    loss_weight=1.0)
tim_info_loss_toy = dict(
    type='InfoPreservationLoss', measure='gradient', loss_weight=1.0)
tim_saliency_loss = dict(
    type='SaliencyWeightedLoss', ssim_weight=1.0, loss_weight=1.0)
tim_fusion_losses = [tim_info_loss, tim_saliency_loss]
tim_fusion_losses_toy = [tim_info_loss_toy, tim_saliency_loss]
tim_fusion_losses_vgg = [tim_info_loss_vgg, tim_saliency_loss]

# N_T's branch losses; which source each branch is compared with is
# our reading (docs/methods/tim.md)
ivif_branch_losses = [
    dict(
        type='IntensityLoss',
        output='target',
        source_weights=(1.0, 0.0),
        loss_name='loss_int_target'),
    dict(
        type='SSIMLoss',
        output='detail',
        source_weights=(0.0, 1.0),
        loss_name='loss_ssim_detail'),
]
medical_branch_losses = [
    dict(
        type='IntensityLoss',
        output='target',
        source_weights=(0.0, 1.0),
        loss_name='loss_int_target'),
    dict(
        type='SSIMLoss',
        output='detail',
        source_weights=(1.0, 0.0),
        loss_name='loss_ssim_detail'),
]
tim_stage1_info_loss = dict(tim_info_loss, output='stage1')
tim_stage1_info_loss_toy = dict(tim_info_loss_toy, output='stage1')
tim_stage1_info_loss_vgg = dict(tim_info_loss_vgg, output='stage1')
