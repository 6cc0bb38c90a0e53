# The official HBL training recipe without the searches: the official LOL
# genotype trained with the hard-coded official loss weights of train.py
# (L1 1.38, L2 1.28, colour 0.82, SSIM 1.23, VGG 0.49, LPIPS 0.74, TV 0,
# Laplacian 0; used for every dataset).
#   python tools/train.py configs/hbl/train_hbl_official_lol.py
_base_ = ['./train_hbl_lol.py', '../_base_/models/hbl_genotypes.py']

# ``_delete_``: the base model's network (a searched genotype file) and loss
# weights (stage 1's file) are replaced, not merged.
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
