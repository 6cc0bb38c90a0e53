# HBL's official LOL genotype with train.py's hard-coded loss weights
# Guide: docs/methods/hbl.md
_base_ = ['./train_hbl_lol.py', '../_base_/models/hbl_genotypes.py']

# _delete_: network and loss weights replace the base's, not merged
model = dict(
    _delete_=True,
    type='ImageEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor'),
    network={{_base_.hbl_lol_network}},
    losses={{_base_.hbl_train_losses}},
    loss_weights=dict(
        loss_l1=1.38,
        loss_l2=1.28,
        loss_color=0.82,
        loss_ssim=1.23,
        loss_vgg=0.49,
        loss_lpips=0.74,
        loss_tv=0.0,
        loss_lap=0.0),
    pred_quantize='round')
