# Toy sibling of ruas_a_lol.py / ruas_a_mit.py: the same network evaluated
# (PSNR / SSIM against the normal-light reference) on darkened toy scenes.
#   python tools/misc/make_toy_lowlight.py data/toy_lowlight
#   python tools/test.py configs/ruas/ruas_a_toy.py CHECKPOINT
_base_ = ['./ruas_a_lol.py']

data_root = 'data/toy_lowlight/val/'
val_dataloader = dict(
    num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
