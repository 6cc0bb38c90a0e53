# The official HBL training recipe without the searches: the official LOL
# genotype trained with the hard-coded official loss weights of train.py
# (L1 1.38, L2 1.28, colour 0.82, SSIM 1.23, VGG 0.49, LPIPS 0.74, TV 0,
# Laplacian 0; used for every dataset).
#   python tools/train.py configs/hbl/train_hbl_official_lol.py
_base_ = ['./train_hbl_lol.py', '../_base_/models/hbl_genotypes.py']

model = dict(
    network={{_base_.hbl_lol_network}},
    loss_weights={{_base_.hbl_official_loss_weights}})
