# TIM's fusion losses (Sec. 4.2, docs/user_guides/fusion_losses.md), one home for every
# TIM config:
#   l_F  information preservation with U2Fusion's adaptive source weights.
#        Default here: U2Fusion's weight-free gradient measure (the Laplacian
#        energy of each source image, measure='gradient'), so every config
#        trains on a fresh, offline machine.
#        The paper uses U2Fusion's feature measure: the Laplacian energy of
#        VGG16 relu1_2 ... relu5_3 of each source (measure='vgg'), which
#        needs the torchvision ImageNet state dict vgg16-397923af.pth
#        (https://download.pytorch.org/models/vgg16-397923af.pth) as a LOCAL
#        file; nothing is downloaded. Train with it by
#          --cfg-options model.losses.0.measure=vgg
#              model.losses.0.feature_weights=checkpoints/vgg16-397923af.pth
#        (model.fusion_losses.0... for a fusion + task model), or use
#        `tim_fusion_losses_vgg` below in a config. tools/train.py checks
#        that the file exists before anything is built.
#   l_T  saliency-weighted intensity + SSIM (histogram contrast), mu = 1
#        (not given in the paper).
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
# the paper's l_F (needs the local VGG16 file, see above)
tim_fusion_losses_vgg = [tim_info_loss_vgg, tim_saliency_loss]

# N_T's branch losses (Sec. 4.2): "as for the parallel outputs of N_T, l_int
# and l_ssim are utilized to constrain the similarity of different
# modalities to realize the target extraction and detail enhancement
# respectively". Each loss names the output it reads (TIMTwoStageFusionNet
# branch_names, configs/_base_/models/tim_two_stage_search.py):
#   l_int(target branch, the thermal / functional source): MSE to IR (IVIF)
#         or to CT / PET / SPECT (medical);
#   l_ssim(detail branch, the texture source): 1 - SSIM to VIS (IVIF) or to
#         MRI (medical).
# Our reading: the paper does not say which source each branch is compared
# with; we pair each branch with the source it extracts (docs/methods/tim.md).
# Sources are stacked (ir, vi) for IVIF and (mri, other) for medical.
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
# l_F on the stage-1 image (joint training of N_F and N_T)
tim_stage1_info_loss = dict(tim_info_loss, output='stage1')
tim_stage1_info_loss_toy = dict(tim_info_loss_toy, output='stage1')
tim_stage1_info_loss_vgg = dict(tim_info_loss_vgg, output='stage1')
